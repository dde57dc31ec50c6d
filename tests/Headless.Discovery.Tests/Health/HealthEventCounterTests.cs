namespace Headless.Discovery.Tests.Health;

/// <summary>Each health transition is counted once by kind in <c>headless_discovery.health.events</c> (#13.8).</summary>
public sealed class HealthEventCounterTests : HealthTestBase
{
    [Fact]
    public async Task Every_transition_is_counted_once_by_kind_and_steady_probes_count_nothing()
    {
        var probe = new ScriptedProbe();
        HeadlessService service = Create(probe);
        // A pod's first probe decides its health: three pods, three "healthy" events; a steady round adds none.
        EndpointSet first = await StartAndProbeAsync(service);
        Assert.Equal(new Dictionary<string, long> { ["healthy"] = 3 }, Metrics(service).Events);
        await ProbeRoundAsync(service, first.Count);
        Assert.Equal(new Dictionary<string, long> { ["healthy"] = 3 }, Metrics(service).Events);

        probe.Set(first.Endpoints[1], healthy: false);
        for (int round = 0; round < 4; round++)
        {
            await ProbeRoundAsync(service, first.Count);
        }

        Assert.Equal(new Dictionary<string, long> { ["healthy"] = 3, ["unhealthy"] = 1 }, Metrics(service).Events);

        probe.Set(first.Endpoints[1], healthy: true);
        await ProbeRoundAsync(service, first.Count);
        await ProbeRoundAsync(service, first.Count);
        Assert.Equal(new Dictionary<string, long> { ["healthy"] = 4, ["unhealthy"] = 1 }, Metrics(service).Events);

        // Passive health: failed calls eject a pod (one "ejected"); its next passed probe returns it (one "returned").
        PodEndpoint pod = first.Endpoints[0];
        for (int i = 0; i < 5 && !service.Current.GetStatus(pod)!.IsEjected; i++)
        {
            service.ReportOutcome(pod, succeeded: false);
        }

        Assert.True(service.Current.GetStatus(pod)!.IsEjected);
        await ProbeRoundAsync(service, first.Count);
        Assert.False(service.Current.GetStatus(pod)!.IsEjected);
        Assert.Equal(new Dictionary<string, long> { ["healthy"] = 4, ["unhealthy"] = 1, ["ejected"] = 1, ["returned"] = 1 }, Metrics(service).Events);
    }
}
