using System.Net;

namespace Headless.Discovery.Tests.Endpoints;

/// <summary>The public factory for snapshots with health, used from outside the core (fakes, custom publishers).</summary>
public sealed class EndpointSetCreateTests
{
    private static readonly ServiceName Service = ServiceName.Parse("web.default.svc.cluster.local");

    private static PodEndpoint Pod(int n) => new(IPAddress.Parse($"10.0.0.{n}"), 80);

    [Fact]
    public void Statuses_are_sorted_by_pod_aligned_with_the_endpoints_and_de_duplicated_keeping_the_first()
    {
        var sick = new EndpointStatus(Pod(2), EndpointHealth.Unhealthy);
        EndpointSet set = EndpointSet.Create(
            Service,
            [new EndpointStatus(Pod(3), EndpointHealth.Healthy), sick, new EndpointStatus(Pod(1)), new EndpointStatus(Pod(2), EndpointHealth.Healthy)],
            4,
            DateTimeOffset.UnixEpoch,
            TimeSpan.FromSeconds(7));

        Assert.Equal<PodEndpoint>([Pod(1), Pod(2), Pod(3)], set.Endpoints);
        Assert.Equal(set.Endpoints, set.Statuses.Select(s => s.Endpoint));
        Assert.Same(sick, set.GetStatus(Pod(2)));
        Assert.Equal<PodEndpoint>([Pod(1), Pod(3)], set.Available);
        Assert.Equal((4L, TimeSpan.FromSeconds(7), false, false), (set.Version, set.Ttl, set.IsStale, set.IsPanic));
        Assert.Equal((1, 1, 0), (set.HealthyCount, set.UnhealthyCount, set.EjectedCount));
    }

    [Fact]
    public void In_panic_every_pod_is_available_and_without_pods_the_set_is_empty()
    {
        EndpointSet panic = EndpointSet.Create(
            Service, [new EndpointStatus(Pod(1), EndpointHealth.Unhealthy), new EndpointStatus(Pod(2), isEjected: true)], 1, DateTimeOffset.UnixEpoch, TimeSpan.Zero, isPanic: true);
        Assert.Equal<PodEndpoint>([Pod(1), Pod(2)], panic.Available);
        Assert.True(panic.IsPanic);

        EndpointSet empty = EndpointSet.Create(Service, Array.Empty<EndpointStatus>(), 1, DateTimeOffset.UnixEpoch, TimeSpan.Zero);
        Assert.Empty(empty.Endpoints);
        Assert.Empty(empty.Available);
    }

    [Fact]
    public void Bad_arguments_are_refused()
    {
        Assert.Throws<ArgumentNullException>(() => EndpointSet.Create(Service, (IEnumerable<EndpointStatus>)null!, 1, DateTimeOffset.UnixEpoch, TimeSpan.Zero));
        Assert.Throws<ArgumentNullException>(() => EndpointSet.Create(Service, [(EndpointStatus)null!], 1, DateTimeOffset.UnixEpoch, TimeSpan.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => EndpointSet.Create(Service, [new EndpointStatus(Pod(1))], -1, DateTimeOffset.UnixEpoch, TimeSpan.Zero));
    }

    [Fact]
    public void A_status_describes_itself_with_its_pod_health_and_ejection()
    {
        var pod = new PodEndpoint(System.Net.IPAddress.Parse("10.0.0.1"), 80);
        Assert.Equal("10.0.0.1:80: Unhealthy (ejected)", new EndpointStatus(pod, EndpointHealth.Unhealthy, isEjected: true).ToString());
        Assert.Equal("10.0.0.1:80: Healthy", new EndpointStatus(pod, EndpointHealth.Healthy).ToString());
    }

    [Fact]
    public void A_probe_result_describes_itself_and_a_failure_always_has_a_reason()
    {
        Assert.Equal("probe failed", ProbeResult.Unhealthy(string.Empty).Error);
        Assert.Equal("HTTP 500", ProbeResult.Unhealthy("HTTP 500").Error);
        Assert.Equal("healthy in 1.5 ms", ProbeResult.Healthy(TimeSpan.FromMilliseconds(1.5)).ToString());
        Assert.Equal("unhealthy in 2 ms: HTTP 500", ProbeResult.Unhealthy("HTTP 500", TimeSpan.FromMilliseconds(2)).ToString());
    }
}
