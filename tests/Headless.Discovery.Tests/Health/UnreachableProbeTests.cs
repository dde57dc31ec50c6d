using System.Net;
using Headless.Discovery.Testing;

namespace Headless.Discovery.Tests.Health;

/// <summary>A probe whose connection is refused asks for an early refresh (#13.5); one that fails otherwise does not.</summary>
public sealed class UnreachableProbeTests : HealthTestBase
{
    [Fact]
    public async Task A_probe_refused_by_a_stopped_pod_asks_for_a_refresh_one_minimum_interval_later()
    {
        // Every probe connects, for real, to a stopped loopback pod (whatever pod it was given): refused.
        await using LoopbackPod stopped = await LoopbackPod.StartTcpAsync(IPAddress.Parse("127.0.0.62"));
        await stopped.StopAsync();
        var tcp = new TcpConnectProbe();
        var refused = new DelegateProbe((_, token) => tcp.ProbeAsync(new PodEndpoint(stopped.Address, stopped.Port), token));
        HeadlessService service = Create(refused);

        await StartAndProbeAsync(service);
        Assert.Equal(1, Resolver.Calls);

        Resolver.Block();
        Time.Advance(TimeSpan.FromSeconds(1));
        await Resolver.Entered.WaitAsync(Generous);
        Resolver.Release();
        Assert.Equal(2, Resolver.Calls);
    }

    [Fact]
    public async Task A_probe_that_fails_without_a_refused_connection_asks_for_no_refresh()
    {
        var probe = new ScriptedProbe();
        HeadlessService service = Create(probe);
        EndpointSet first = await StartAndProbeAsync(service);
        foreach (PodEndpoint pod in first.Endpoints)
        {
            probe.Set(pod, healthy: false);
        }

        await ProbeRoundAsync(service, first.Count);
        await ProbeRoundAsync(service, first.Count);

        // Ten seconds on, the answer's hour-long TTL still holds: no early round.
        Assert.Equal(1, Resolver.Calls);
    }
}
