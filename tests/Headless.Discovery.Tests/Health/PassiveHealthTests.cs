using System.Collections.Concurrent;
using static Headless.Discovery.Tests.Refresh.ScriptedAnswers;

namespace Headless.Discovery.Tests.Health;

public sealed class PassiveHealthTests : HealthTestBase
{
    private static readonly TimeSpan Base = TimeSpan.FromSeconds(30);

    private HeadlessService CreatePassive(Action<HeadlessServiceOptions>? configure = null, IEndpointProbe? probe = null) =>
        Create(probe, o =>
        {
            o.PassiveHealth.BaseEjectionTime = Base;
            o.PassiveHealth.MaxEjectionTime = TimeSpan.FromSeconds(100);
            configure?.Invoke(o);
        });

    private static void Fail(HeadlessService service, PodEndpoint pod, int times)
    {
        for (int i = 0; i < times; i++)
        {
            service.ReportOutcome(pod, false, TimeSpan.FromMilliseconds(5));
        }
    }

    [Fact]
    public async Task Without_a_probe_a_pod_holds_health_state_only_from_its_first_failure_until_it_leaves()
    {
        HeadlessService service = CreatePassive();
        EndpointSet before = await service.GetEndpointsAsync().AsTask().WaitAsync(Generous);
        HealthMetrics metrics = Metrics(service);
        Assert.Equal(0, metrics.TrackedPods);
        Assert.All(before.Statuses, s => Assert.Equal(EndpointHealth.Unknown, s.Health));

        service.ReportOutcome(Pod(1), true, TimeSpan.FromMilliseconds(1));
        Fail(service, Pod(9), 10); // not a member: no state, no ejection
        Assert.Equal(0, metrics.TrackedPods);

        Fail(service, Pod(2), 1);
        Assert.Equal(1, metrics.TrackedPods);
        Assert.Same(before, service.Current); // one failure publishes nothing

        // The streak counts from that first failure: four more eject the pod, as with state from the start.
        Fail(service, Pod(2), 4);
        Assert.True(service.Current.GetStatus(Pod(2))!.IsEjected);

        // The pod leaves: its state goes with it.
        Resolver.Fallback = Ok(3600, 1, 3);
        await service.RefreshAsync().AsTask().WaitAsync(Generous);
        Assert.Equal(0, metrics.TrackedPods);
    }

    [Fact]
    public async Task Consecutive_failures_eject_and_the_pod_returns_after_the_base_time()
    {
        HeadlessService service = CreatePassive();
        var changes = new ChangeLog();
        service.Changed += changes.Handler;
        EndpointSet before = await service.GetEndpointsAsync().AsTask().WaitAsync(Generous);

        Fail(service, Pod(1), 4);
        Assert.Same(before, service.Current);

        Fail(service, Pod(1), 1);
        EndpointSet ejected = service.Current;
        Assert.Equal(before.Version + 1, ejected.Version);
        EndpointStatus status = ejected.GetStatus(Pod(1))!;
        Assert.True(status.IsEjected);
        Assert.Equal(Time.GetUtcNow() + Base, status.EjectedUntil);
        Assert.Equal(EndpointHealth.Unknown, status.Health);
        Assert.Equal(1, ejected.EjectedCount);
        Assert.Equal(["10.0.0.2:80", "10.0.0.3:80"], ejected.Available.Select(e => e.Key));
        await changes.WaitForAsync(ejected.Version).WaitAsync(Generous);
        Assert.Equal(EndpointSetChangeKind.Health, changes.Last.Kind);
        Assert.True(Assert.Single(changes.Last.HealthChanged).IsEjected);

        Time.Advance(Base - TimeSpan.FromSeconds(1));
        Assert.Same(ejected, service.Current);

        Time.Advance(TimeSpan.FromSeconds(1));
        EndpointSet returned = service.Current;
        Assert.Equal(ejected.Version + 1, returned.Version);
        Assert.False(returned.GetStatus(Pod(1))!.IsEjected);
        Assert.Equal(3, returned.Available.Length);
        await changes.WaitForAsync(returned.Version).WaitAsync(Generous);
        Assert.False(Assert.Single(changes.Last.HealthChanged).IsEjected);
    }

    [Fact]
    public async Task A_success_resets_the_failure_streak()
    {
        HeadlessService service = CreatePassive();
        EndpointSet before = await service.GetEndpointsAsync().AsTask().WaitAsync(Generous);

        for (int i = 0; i < 10; i++)
        {
            Fail(service, Pod(1), 4);
            service.ReportOutcome(Pod(1), true);
        }

        Assert.Same(before, service.Current);
    }

    [Fact]
    public async Task Repeated_ejections_last_base_times_count_up_to_the_max()
    {
        HeadlessService service = CreatePassive();
        await service.GetEndpointsAsync().AsTask().WaitAsync(Generous);
        var durations = new List<TimeSpan>();
        for (int i = 0; i < 5; i++)
        {
            Fail(service, Pod(2), 5);
            EndpointStatus status = service.Current.GetStatus(Pod(2))!;
            Assert.True(status.IsEjected);
            TimeSpan duration = status.EjectedUntil!.Value - Time.GetUtcNow();
            durations.Add(duration);
            Time.Advance(duration);
            Assert.False(service.Current.GetStatus(Pod(2))!.IsEjected);
        }

        Assert.Equal([30, 60, 90, 100, 100], durations.Select(d => d.TotalSeconds));
    }

    [Fact]
    public async Task The_ejection_count_starts_over_after_a_quiet_max_ejection_time()
    {
        HeadlessService service = CreatePassive();
        await service.GetEndpointsAsync().AsTask().WaitAsync(Generous);
        Fail(service, Pod(2), 5);
        Time.Advance(Base);
        Fail(service, Pod(2), 5);
        Assert.Equal(TimeSpan.FromSeconds(60), service.Current.GetStatus(Pod(2))!.EjectedUntil - Time.GetUtcNow());
        Time.Advance(TimeSpan.FromSeconds(60));

        Time.Advance(TimeSpan.FromSeconds(100));
        Fail(service, Pod(2), 5);
        Assert.Equal(Base, service.Current.GetStatus(Pod(2))!.EjectedUntil - Time.GetUtcNow());
    }

    [Fact]
    public async Task Never_more_than_max_ejection_percent_are_ejected()
    {
        Resolver.Fallback = Ok(3600, 1, 2, 3, 4);
        HeadlessService service = CreatePassive();
        await service.GetEndpointsAsync().AsTask().WaitAsync(Generous);

        Fail(service, Pod(1), 5);
        Fail(service, Pod(2), 5);
        Fail(service, Pod(3), 20);

        EndpointSet set = service.Current;
        Assert.Equal(2, set.EjectedCount);
        Assert.False(set.GetStatus(Pod(3))!.IsEjected);
        Assert.False(set.IsPanic);
        Assert.Equal(["10.0.0.3:80", "10.0.0.4:80"], set.Available.Select(e => e.Key));

        // When a slot frees up, the next failure past the threshold ejects the pod.
        Time.Advance(Base);
        Assert.Equal(0, service.Current.EjectedCount);
        Fail(service, Pod(3), 1);
        Assert.True(service.Current.GetStatus(Pod(3))!.IsEjected);
    }

    [Fact]
    public async Task Panic_mode_selects_among_all_pods_when_too_few_are_available()
    {
        Resolver.Fallback = Ok(3600, 1, 2, 3, 4);
        HeadlessService service = CreatePassive(o => o.PassiveHealth.MaxEjectionPercent = 100);
        var changes = new ChangeLog();
        service.Changed += changes.Handler;
        await service.GetEndpointsAsync().AsTask().WaitAsync(Generous);

        Fail(service, Pod(1), 5);
        Fail(service, Pod(2), 5);
        Assert.False(service.Current.IsPanic);
        Assert.Equal(2, service.Current.Available.Length);

        Fail(service, Pod(3), 5);
        EndpointSet panic = service.Current;
        Assert.True(panic.IsPanic);
        Assert.Equal(3, panic.EjectedCount);
        Assert.Equal(panic.Endpoints, panic.Available);
        await changes.WaitForAsync(panic.Version).WaitAsync(Generous);
        Assert.True(changes.Last.Kind.HasFlag(EndpointSetChangeKind.Health));

        Time.Advance(Base);
        Assert.False(service.Current.IsPanic);
        Assert.Equal(4, service.Current.Available.Length);
    }

    [Fact]
    public async Task Panic_threshold_zero_turns_panic_mode_off()
    {
        HeadlessService service = CreatePassive(o =>
        {
            o.PassiveHealth.MaxEjectionPercent = 100;
            o.PanicThreshold = 0;
        });
        await service.GetEndpointsAsync().AsTask().WaitAsync(Generous);
        Fail(service, Pod(1), 5);
        Fail(service, Pod(2), 5);
        Fail(service, Pod(3), 5);
        Assert.False(service.Current.IsPanic);
        Assert.Empty(service.Current.Available);
    }

    [Fact]
    public async Task An_active_probe_success_returns_an_ejected_pod_early()
    {
        var probe = new ScriptedProbe();
        HeadlessService service = CreatePassive(probe: probe);
        await StartAndProbeAsync(service);

        Fail(service, Pod(1), 5);
        Assert.True(service.Current.GetStatus(Pod(1))!.IsEjected);

        await ProbeRoundAsync(service, 3);
        EndpointStatus status = service.Current.GetStatus(Pod(1))!;
        Assert.False(status.IsEjected);
        Assert.Equal(EndpointHealth.Healthy, status.Health);
        Assert.Equal(3, service.Current.Available.Length);

        // The ejection timer was disposed: its due time passing changes nothing.
        EndpointSet current = service.Current;
        Time.Advance(Base - Interval);
        Assert.Equal(current.Version, service.Current.Version);
    }

    [Fact]
    public async Task Outcomes_for_unknown_pods_and_with_passive_health_off_are_ignored()
    {
        HeadlessService service = CreatePassive();
        EndpointSet set = await service.GetEndpointsAsync().AsTask().WaitAsync(Generous);
        Fail(service, Pod(99), 50);
        Assert.Same(set, service.Current);

        HeadlessService off = CreatePassive(o => o.PassiveHealth.Enabled = false);
        EndpointSet offSet = await off.GetEndpointsAsync().AsTask().WaitAsync(Generous);
        Fail(off, Pod(1), 50);
        Assert.Same(offSet, off.Current);
    }

    [Fact]
    public async Task Ejection_state_survives_a_refresh_and_leaves_with_the_pod()
    {
        HeadlessService service = CreatePassive();
        await service.GetEndpointsAsync().AsTask().WaitAsync(Generous);
        Fail(service, Pod(1), 5);

        Resolver.Fallback = Ok(3600, 1, 2, 3, 4);
        EndpointSet grown = await service.RefreshAsync().AsTask().WaitAsync(Generous);
        Assert.True(grown.GetStatus(Pod(1))!.IsEjected);

        Resolver.Fallback = Ok(3600, 2, 3, 4);
        EndpointSet shrunk = await service.RefreshAsync().AsTask().WaitAsync(Generous);
        Assert.Equal(0, shrunk.EjectedCount);

        // Its ejection timer is gone with it: nothing is published when it would have fired.
        Time.Advance(Base);
        Assert.Same(shrunk, service.Current);

        Resolver.Fallback = Ok(3600, 1, 2, 3, 4);
        EndpointSet back = await service.RefreshAsync().AsTask().WaitAsync(Generous);
        Assert.False(back.GetStatus(Pod(1))!.IsEjected);
    }

    [Fact]
    public async Task Concurrent_outcomes_and_refreshes_publish_strictly_increasing_versions()
    {
        Resolver.Fallback = Ok(3600, Enumerable.Range(1, 20).ToArray());
        HeadlessService service = CreatePassive(o =>
        {
            o.PassiveHealth.MaxEjectionPercent = 100;
            o.PassiveHealth.ConsecutiveFailures = 1;
        });
        var versions = new ChangeLog();
        service.Changed += versions.Handler;
        await service.GetEndpointsAsync().AsTask().WaitAsync(Generous);

        Task reporters = Task.WhenAll(Enumerable.Range(1, 4).Select(t => Task.Run(() =>
        {
            for (int i = 0; i < 200; i++)
            {
                PodEndpoint pod = Pod(1 + ((i + t) % 20));
                service.ReportOutcome(pod, i % 3 == 0 ? false : true);
            }
        })));
        for (int i = 0; i < 10; i++)
        {
            Resolver.Fallback = Ok(3600, Enumerable.Range(1, 20 - (i % 2)).ToArray());
            await service.RefreshAsync().AsTask().WaitAsync(Generous);
        }

        await reporters.WaitAsync(Generous);
        await versions.WaitForAsync(service.Current.Version).WaitAsync(Generous);
        long[] seen = versions.Seen;
        for (int i = 1; i < seen.Length; i++)
        {
            Assert.Equal(seen[i - 1] + 1, seen[i]);
        }

        Assert.Equal(service.Current.Version, seen[^1]);
    }
}
