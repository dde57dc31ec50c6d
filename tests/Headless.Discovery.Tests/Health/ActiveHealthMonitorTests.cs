using System.Collections.Concurrent;
using CsCheck;
using Headless.Discovery.TestSupport;
using static Headless.Discovery.Tests.Refresh.ScriptedAnswers;

namespace Headless.Discovery.Tests.Health;

public sealed class ActiveHealthMonitorTests : HealthTestBase
{
    [Fact]
    public async Task Each_pod_is_probed_at_once_and_its_first_probe_decides()
    {
        var probe = new ScriptedProbe();
        probe.Set(Pod(2), healthy: false);
        HeadlessService service = Create(probe);

        EndpointSet set = await StartAndProbeAsync(service);

        Assert.Equal([EndpointHealth.Healthy, EndpointHealth.Unhealthy, EndpointHealth.Healthy], set.Statuses.Select(s => s.Health));
        Assert.Equal(["10.0.0.1:80", "10.0.0.3:80"], set.Available.Select(e => e.Key));
        Assert.Equal(2, set.HealthyCount);
        Assert.Equal(1, set.UnhealthyCount);
        Assert.False(set.IsPanic);
        Assert.Equal("scripted failure", set.GetStatus(Pod(2))!.LastError);
        Assert.Equal(1, set.GetStatus(Pod(2))!.ConsecutiveFailures);
        Assert.Equal(Time.GetUtcNow(), set.GetStatus(Pod(2))!.LastTransitionAt);
        Assert.Equal(set.Endpoints, (await service.GetEndpointsAsync()).Endpoints);
    }

    [Fact]
    public async Task Thresholds_give_hysteresis_in_both_directions()
    {
        var probe = new ScriptedProbe();
        HeadlessService service = Create(probe);
        await StartAndProbeAsync(service);
        Assert.Equal(EndpointHealth.Healthy, service.Current.GetStatus(Pod(1))!.Health);

        probe.Set(Pod(1), healthy: false);
        await ProbeRoundAsync(service, 3);
        await ProbeRoundAsync(service, 3);
        Assert.Equal(EndpointHealth.Healthy, service.Current.GetStatus(Pod(1))!.Health);
        Assert.Equal(2, service.GetHealthDetails()[0].ConsecutiveFailures);

        await ProbeRoundAsync(service, 3);
        Assert.Equal(EndpointHealth.Unhealthy, service.Current.GetStatus(Pod(1))!.Health);
        Assert.Equal(3, service.Current.GetStatus(Pod(1))!.ConsecutiveFailures);

        probe.Set(Pod(1), healthy: true);
        await ProbeRoundAsync(service, 3);
        Assert.Equal(EndpointHealth.Unhealthy, service.Current.GetStatus(Pod(1))!.Health);

        await ProbeRoundAsync(service, 3);
        Assert.Equal(EndpointHealth.Healthy, service.Current.GetStatus(Pod(1))!.Health);
        Assert.Null(service.Current.GetStatus(Pod(1))!.LastError);
    }

    [Fact]
    public async Task Health_options_changed_after_construction_have_no_effect()
    {
        var probe = new ScriptedProbe();
        HeadlessServiceOptions? options = null;
        HeadlessService service = Create(probe, o => options = o);
        await StartAndProbeAsync(service);

        // Set after the service was built: probing goes on with the timeout, interval and thresholds it was built with.
        options!.ActiveHealth.Timeout = TimeSpan.Zero;
        options.ActiveHealth.Interval = TimeSpan.FromDays(3);
        options.ActiveHealth.UnhealthyThreshold = 1000;
        options.ActiveHealth.CustomProbe = null;
        options.ActiveHealth.Probe = "none";

        probe.Set(Pod(1), healthy: false);
        for (int round = 0; round < 3; round++)
        {
            await ProbeRoundAsync(service, 3);
        }

        Assert.Equal(EndpointHealth.Unhealthy, service.Current.GetStatus(Pod(1))!.Health);
    }

    [Fact]
    public async Task A_transition_publishes_a_new_version_with_the_same_members_and_a_health_change()
    {
        var probe = new ScriptedProbe();
        HeadlessService service = Create(probe, o => o.ActiveHealth.UnhealthyThreshold = 1);
        var changes = new ChangeLog();
        service.Changed += changes.Handler;
        await using IAsyncEnumerator<EndpointSetChange> watch = service.WatchAsync().GetAsyncEnumerator();
        EndpointSet before = await StartAndProbeAsync(service);

        Assert.True(await watch.MoveNextAsync().AsTask().WaitAsync(Generous));
        EndpointSet seen = watch.Current.Current;
        while (seen.Version < before.Version)
        {
            Assert.True(await watch.MoveNextAsync().AsTask().WaitAsync(Generous));
            seen = watch.Current.Current;
        }

        probe.Set(Pod(3), healthy: false);
        await ProbeRoundAsync(service, 3);

        EndpointSet after = service.Current;
        Assert.Equal(before.Version + 1, after.Version);
        Assert.Equal(before.Endpoints, after.Endpoints);
        Assert.Equal(before.ResolvedAt, after.ResolvedAt);
        await changes.WaitForAsync(after.Version).WaitAsync(Generous);
        EndpointSetChange last = changes.Last;
        Assert.Equal(EndpointSetChangeKind.Health, last.Kind);
        Assert.Empty(last.Added);
        Assert.Empty(last.Removed);
        EndpointStatus changed = Assert.Single(last.HealthChanged);
        Assert.Equal(Pod(3), changed.Endpoint);
        Assert.Equal(EndpointHealth.Unhealthy, changed.Health);

        Assert.True(await watch.MoveNextAsync().AsTask().WaitAsync(Generous));
        Assert.Equal(after.Version, watch.Current.Current.Version);
        Assert.Equal(EndpointSetChangeKind.Health, watch.Current.Kind);
        Assert.Equal(Pod(3), Assert.Single(watch.Current.HealthChanged).Endpoint);

        long[] versions = changes.Seen;
        Assert.Equal(versions.Order(), versions);
        Assert.Equal(versions.Distinct().Count(), versions.Length);
    }

    [Fact]
    public async Task Probe_details_without_a_transition_publish_nothing_but_are_live()
    {
        var probe = new DelegateProbe((endpoint, _) => ValueTask.FromResult(ProbeResult.Healthy()));
        HeadlessService service = Create(probe);
        EndpointSet settled = await StartAndProbeAsync(service);
        DateTimeOffset firstProbe = Time.GetUtcNow();

        for (int i = 0; i < 5; i++)
        {
            await ProbeRoundAsync(service, 3);
        }

        Assert.Same(settled, service.Current);
        Assert.Equal(18, Metrics(service).Probes);
        Assert.All(service.GetHealthDetails(), s => Assert.Equal(EndpointHealth.Healthy, s.Health));
        Assert.All(service.GetHealthDetails(), s => Assert.Equal(firstProbe, s.LastTransitionAt));
    }

    [Fact]
    public async Task A_probe_that_hangs_times_out_and_counts_as_a_failure()
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var probe = new DelegateProbe(async (endpoint, ct) =>
        {
            if (endpoint.Equals(Pod(2)))
            {
                entered.TrySetResult();
                await Task.Delay(Timeout.Infinite, ct);
            }

            return ProbeResult.Healthy();
        });
        HeadlessService service = Create(probe);
        await service.GetEndpointsAsync().AsTask().WaitAsync(Generous);
        await WaitForProbesAsync(service, 2);
        await entered.Task.WaitAsync(Generous);

        Time.Advance(TimeSpan.FromSeconds(2));
        await WaitForProbesAsync(service, 3);

        EndpointStatus status = service.Current.GetStatus(Pod(2))!;
        Assert.Equal(EndpointHealth.Unhealthy, status.Health);
        Assert.Equal("timed out after 2000 ms", status.LastError);
        Assert.Equal(TimeSpan.FromSeconds(2), status.LastLatency);
    }

    [Fact]
    public async Task A_throwing_probe_counts_as_a_failure_with_its_message()
    {
        HeadlessService service = Create(new DelegateProbe((_, _) => throw new InvalidOperationException("ping failed")));
        EndpointSet set = await StartAndProbeAsync(service);
        Assert.All(set.Statuses, s => Assert.Equal("InvalidOperationException: ping failed", s.LastError));
        Assert.True(set.IsPanic);
        Assert.Equal(set.Endpoints, set.Available);
    }

    [Fact]
    public async Task Concurrency_is_bounded_by_MaxConcurrentProbes()
    {
        Resolver.Fallback = Ok(3600, Enumerable.Range(1, 10).ToArray());
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var threeIn = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int current = 0, max = 0, calls = 0;
        var probe = new DelegateProbe(async (_, ct) =>
        {
            int now = Interlocked.Increment(ref current);
            AtomicMax.Raise(ref max, now);
            if (Interlocked.Increment(ref calls) == 3)
            {
                threeIn.TrySetResult();
            }

            await gate.Task.WaitAsync(ct);
            Interlocked.Decrement(ref current);
            return ProbeResult.Healthy();
        });
        HeadlessService service = Create(probe, o => o.ActiveHealth.MaxConcurrentProbes = 3);
        await service.GetEndpointsAsync().AsTask().WaitAsync(Generous);

        await threeIn.Task.WaitAsync(Generous);
        Assert.Equal(3, Volatile.Read(ref current));
        Assert.Equal(3, Volatile.Read(ref calls));

        gate.SetResult();
        await WaitForProbesAsync(service, 10);
        Assert.Equal(10, Volatile.Read(ref calls));
        Assert.Equal(3, Volatile.Read(ref max));
    }

    [Fact]
    public void Interval_and_initial_jitter_stay_within_bounds_for_any_seed()
    {
        var options = new ActiveHealthOptions { Interval = Interval, IntervalJitter = 0.2, InitialJitter = TimeSpan.FromSeconds(3) };
        Property.ForAll(
            Gen.Int,
            iterations: 200,
            seed: 0x12_00_0003UL,
            seed =>
            {
                var random = new Random(seed);
                var schedule = new ProbeSchedule(options, random.NextDouble);
                var seen = new HashSet<TimeSpan>();
                for (int i = 0; i < 200; i++)
                {
                    TimeSpan interval = schedule.NextInterval();
                    Assert.InRange(interval, TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(6));
                    seen.Add(interval);
                    Assert.InRange(schedule.InitialDelay(), TimeSpan.Zero, TimeSpan.FromSeconds(3));
                }

                Assert.True(seen.Count > 50, $"jitter should spread intervals, saw {seen.Count} distinct values");
            },
            print: seed => $"seed {seed}");

        var low = new ProbeSchedule(options, () => 0.0);
        Assert.Equal(TimeSpan.FromSeconds(4), low.NextInterval());
        Assert.Equal(TimeSpan.Zero, low.InitialDelay());
        var high = new ProbeSchedule(options, () => 1.0);
        Assert.Equal(TimeSpan.FromSeconds(6), high.NextInterval());
        Assert.Equal(TimeSpan.FromSeconds(3), high.InitialDelay());
    }

    [Fact]
    public async Task Initial_jitter_delays_the_first_probe()
    {
        var probe = new ScriptedProbe();
        HeadlessService service = Create(probe, o => o.ActiveHealth.InitialJitter = TimeSpan.FromSeconds(4));
        await service.GetEndpointsAsync().AsTask().WaitAsync(Generous);
        Assert.Equal(0, probe.Calls(Pod(1)));

        Time.Advance(TimeSpan.FromSeconds(2));
        await WaitForProbesAsync(service, 3);
        Assert.Equal(1, probe.Calls(Pod(1)));
    }

    [Fact]
    public async Task Health_survives_a_dns_refresh_and_new_pods_are_probed_at_once()
    {
        var probe = new ScriptedProbe();
        probe.Set(Pod(2), healthy: false);
        HeadlessService service = Create(probe);
        EndpointSet before = await StartAndProbeAsync(service);
        EndpointStatus unhealthy = before.GetStatus(Pod(2))!;

        Resolver.Fallback = Ok(3600, 1, 2, 3, 4);
        EndpointSet grown = await service.RefreshAsync().AsTask().WaitAsync(Generous);
        Assert.True(grown.Version > before.Version);
        Assert.Equal(EndpointHealth.Unhealthy, grown.GetStatus(Pod(2))!.Health);
        Assert.Equal(unhealthy.LastTransitionAt, grown.GetStatus(Pod(2))!.LastTransitionAt);
        Assert.Equal(EndpointHealth.Healthy, grown.GetStatus(Pod(1))!.Health);

        await WaitForProbesAsync(service, 4);
        Assert.Equal(EndpointHealth.Healthy, service.Current.GetStatus(Pod(4))!.Health);
        Assert.Equal(1, probe.Calls(Pod(4)));
        Assert.Equal(1, probe.Calls(Pod(1)));
    }
}
