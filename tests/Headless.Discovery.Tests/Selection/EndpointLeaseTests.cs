using Headless.Discovery.Testing;
using Headless.Discovery;
using Microsoft.Extensions.Time.Testing;
using static Headless.Discovery.Tests.Selection.TestPods;

namespace Headless.Discovery.Tests.Selection;

public sealed class EndpointLeaseTests
{
    [Fact]
    public void Succeed_and_fail_report_once_with_the_latency_and_dispose_adds_nothing()
    {
        var time = new FakeTimeProvider();
        var service = new FakeHeadlessService(Pods(1)) { TimeProvider = time };
        IEndpointSelector selector = EndpointSelectors.RoundRobin(service);

        using (EndpointLease lease = selector.Lease())
        {
            time.Advance(TimeSpan.FromMilliseconds(250));
            Assert.Equal(TimeSpan.FromMilliseconds(250), lease.Elapsed);
            lease.Complete(true);
            lease.Complete(false);
            Assert.Equal("10.0.0.1:80 (ended)", lease.ToString());
        }

        using (EndpointLease lease = selector.Lease())
        {
            time.Advance(TimeSpan.FromSeconds(2));
            lease.Complete(false);
        }

        Assert.Equal(
            [(Pod(0), true, TimeSpan.FromMilliseconds(250)), (Pod(0), false, TimeSpan.FromSeconds(2))],
            service.Outcomes.ToArray());
    }

    [Fact]
    public void Complete_reports_the_outcome_it_is_given()
    {
        var time = new FakeTimeProvider();
        var service = new FakeHeadlessService(Pods(1)) { TimeProvider = time };
        IEndpointSelector selector = EndpointSelectors.RoundRobin(service);

        EndpointLease ok = selector.Lease();
        time.Advance(TimeSpan.FromMilliseconds(7));
        ok.Complete(true);
        EndpointLease failed = selector.Lease();
        failed.Complete(false);

        Assert.Equal(
            [(Pod(0), true, TimeSpan.FromMilliseconds(7)), (Pod(0), false, TimeSpan.Zero)],
            service.Outcomes.ToArray());
    }

    [Fact]
    public void A_lease_describes_its_pod_and_whether_it_ended()
    {
        var service = new FakeHeadlessService(Pods(1));
        EndpointLease lease = EndpointSelectors.RoundRobin(service).Lease();
        Assert.Equal("10.0.0.1:80", lease.ToString());
        lease.Dispose();
        Assert.Equal("10.0.0.1:80 (ended)", lease.ToString());
        Assert.Equal("(no endpoint)", default(EndpointLease).ToString());
    }

    [Fact]
    public void A_plain_dispose_reports_nothing_but_releases_the_outstanding_count()
    {
        // Two pods, so the outstanding count shows in the picks: the busier pod loses every comparison.
        var service = new FakeHeadlessService(Pods(2));
        IEndpointSelector selector = EndpointSelectors.LeastRequest(service, seed: 2);
        EndpointLease lease = selector.Lease();
        PodEndpoint other = Assert.Single(service.Current.Endpoints.Remove(lease.Endpoint));
        Assert.Equal([other], SelectorDistributionTests.Picked(selector));

        lease.Dispose();
        lease.Dispose();

        Assert.Empty(service.Outcomes);
        // Released once, not twice: the pods tie again (a count below the idle pod's would win every comparison).
        Assert.Equal(2, SelectorDistributionTests.Picked(selector).Count);
    }

    [Fact]
    public void Default_lease_is_inert_and_try_lease_returns_false_without_pods()
    {
        EndpointLease none = default;
        Assert.Null(none.Endpoint);
        none.Complete(false);
        none.Dispose();
        Assert.Equal("(no endpoint)", none.ToString());

        var service = new FakeHeadlessService();
        IEndpointSelector selector = EndpointSelectors.LeastRequest(service);
        Assert.False(selector.TryLease(out EndpointLease lease));
        Assert.Null(lease.Endpoint);
        Assert.Throws<NoEndpointAvailableException>(() => selector.Lease());
    }
}
