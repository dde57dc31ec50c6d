using Headless.Discovery.Testing;
using System.Collections.Immutable;
using Headless.Discovery;
using static Headless.Discovery.Tests.Selection.TestPods;

namespace Headless.Discovery.Tests.Selection;

public sealed class NoEndpointAvailableExceptionTests
{
    [Fact]
    public void The_message_says_when_the_snapshot_is_stale_and_carries_its_last_error()
    {
        var service = new FakeHeadlessService();
        service.Publish(Pods(2).Select(p => (p, EndpointHealth.Unhealthy, false)));
        var fresh = Assert.Throws<NoEndpointAvailableException>(() => EndpointSelectors.RoundRobin(service).Pick());
        Assert.Equal("No endpoint of 'web.default.svc.cluster.local' is available: none of its 2 pod(s) is available (2 unhealthy, 0 ejected) (snapshot version 1).", fresh.Message);
        Assert.Null(fresh.InnerException);

        var error = new TimeoutException("DNS timed out");
        service.Publish(new EndpointSet(TestPods.ServiceName, ImmutableArray<PodEndpoint>.Empty, 2, DateTimeOffset.UnixEpoch, TimeSpan.FromSeconds(5), true, DateTimeOffset.UnixEpoch, error));
        var stale = Assert.Throws<NoEndpointAvailableException>(() => EndpointSelectors.RoundRobin(service).Pick());
        Assert.Equal("No endpoint of 'web.default.svc.cluster.local' is available: it has no ready pods (snapshot version 2, stale).", stale.Message);
        Assert.Same(error, stale.InnerException);
        Assert.Equal(2, stale.Snapshot!.Version);
    }

    [Fact]
    public void The_public_constructors_keep_their_message_and_cause_and_name_no_service()
    {
        Assert.Equal("No endpoint is available.", new NoEndpointAvailableException().Message);
        Assert.Equal("none", new NoEndpointAvailableException("none").Message);
        var cause = new InvalidOperationException("cause");
        var ex = new NoEndpointAvailableException("none", cause);
        Assert.Equal("none", ex.Message);
        Assert.Same(cause, ex.InnerException);
        Assert.Null(ex.Snapshot);
    }
}
