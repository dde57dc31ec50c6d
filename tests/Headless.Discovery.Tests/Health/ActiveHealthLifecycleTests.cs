using System.Net;
using static Headless.Discovery.Tests.Refresh.ScriptedAnswers;

namespace Headless.Discovery.Tests.Health;

/// <summary>Active health across membership changes and disposal: probing follows the pod set and stops with the service.</summary>
public sealed class ActiveHealthLifecycleTests : HealthTestBase
{
    [Fact]
    public async Task Removed_pods_stop_being_probed()
    {
        var probe = new ScriptedProbe();
        HeadlessService service = Create(probe);
        await StartAndProbeAsync(service);

        Resolver.Fallback = Ok(3600, 1, 2);
        await service.RefreshAsync().AsTask().WaitAsync(Generous);
        Assert.Equal(2, Metrics(service).TrackedPods);
        int callsOfRemoved = probe.Calls(Pod(3));

        for (int i = 0; i < 4; i++)
        {
            await ProbeRoundAsync(service, 2);
        }

        Assert.Equal(callsOfRemoved, probe.Calls(Pod(3)));
        Assert.Equal(5, probe.Calls(Pod(1)));
    }

    [Fact]
    public async Task A_removed_pods_in_flight_probe_is_cancelled()
    {
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var probe = new DelegateProbe(async (endpoint, ct) =>
        {
            if (endpoint.Equals(Pod(3)))
            {
                entered.TrySetResult();
                try
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }
                catch (OperationCanceledException)
                {
                    cancelled.TrySetResult();
                    throw;
                }
            }

            return ProbeResult.Healthy();
        });
        HeadlessService service = Create(probe);
        await service.GetEndpointsAsync().AsTask().WaitAsync(Generous);
        await entered.Task.WaitAsync(Generous);

        Resolver.Fallback = Ok(3600, 1, 2);
        await service.RefreshAsync().AsTask().WaitAsync(Generous);

        await cancelled.Task.WaitAsync(Generous);
        Assert.Null(service.Current.GetStatus(Pod(3)));
    }

    [Fact]
    public async Task The_same_ip_under_another_hostname_starts_fresh()
    {
        var web0 = new PodEndpoint(IPAddress.Parse("10.0.0.1"), 80, "web-0.web.default.svc.cluster.local");
        var web1 = new PodEndpoint(IPAddress.Parse("10.0.0.1"), 80, "web-1.web.default.svc.cluster.local");
        Resolver.Fallback = ResolutionResult.Success([web0], TimeSpan.FromHours(1));
        var probe = new ScriptedProbe();
        probe.Set(web0, healthy: false);
        probe.Set(web1, healthy: false);
        HeadlessService service = Create(probe);
        EndpointSet first = await StartAndProbeAsync(service);
        Assert.Equal(EndpointHealth.Unhealthy, first.GetStatus(web0)!.Health);

        Resolver.Fallback = ResolutionResult.Success([web1], TimeSpan.FromHours(1));
        EndpointSet renamed = await service.RefreshAsync().AsTask().WaitAsync(Generous);

        Assert.Null(renamed.GetStatus(web0));
        EndpointStatus fresh = service.Current.GetStatus(web1)!;
        if (fresh.Health == EndpointHealth.Unknown)
        {
            Assert.Null(fresh.LastTransitionAt);
            Assert.Equal(0, fresh.ConsecutiveFailures);
        }

        await WaitForProbesAsync(service, 2);
        Assert.Equal(1, probe.Calls(web1));
        Assert.Equal(1, service.Current.GetStatus(web1)!.ConsecutiveFailures);
    }

    [Fact]
    public async Task Disposal_stops_every_probe()
    {
        var probe = new ScriptedProbe();
        HeadlessService service = Create(probe);
        await StartAndProbeAsync(service);
        await ProbeRoundAsync(service, 3);
        HealthMetrics metrics = Metrics(service);

        await service.DisposeAsync();
        long completed = metrics.Probes;
        int calls = probe.Calls(Pod(1));

        Time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(completed, metrics.Probes);
        Assert.Equal(calls, probe.Calls(Pod(1)));
    }

    [Fact]
    public async Task Disposal_cancels_an_in_flight_probe()
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        HeadlessService service = Create(new DelegateProbe(async (_, ct) =>
        {
            entered.TrySetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
                cancelled.TrySetResult();
                throw;
            }

            return ProbeResult.Healthy();
        }));
        await service.GetEndpointsAsync().AsTask().WaitAsync(Generous);
        await entered.Task.WaitAsync(Generous);

        // Disposal cancels the probe in flight (the probe wrapper may return before the probe itself has unwound).
        await service.DisposeAsync().AsTask().WaitAsync(Generous);
        await cancelled.Task.WaitAsync(Generous);
        Assert.Equal(0, Metrics(service).Probes);
    }

    [Fact]
    public async Task Without_health_checking_statuses_stay_unknown_and_shared()
    {
        HeadlessService service = Create(null, o => o.PassiveHealth.Enabled = false);
        EndpointSet set = await service.GetEndpointsAsync().AsTask().WaitAsync(Generous);
        // No health room: nothing ever holds per-pod health state for this service.
        Assert.Null(Metrics(service).TrackedPods);
        Assert.All(set.Statuses, s => Assert.Equal(EndpointHealth.Unknown, s.Health));
        Assert.Same(set.Endpoints[0].UnknownStatus, set.Statuses[0]);
        Assert.Equal(set.Endpoints, set.Available);
        Assert.Equal(set.Statuses, service.GetHealthDetails());
    }
}
