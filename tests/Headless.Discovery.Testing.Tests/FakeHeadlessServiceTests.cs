using System.Net;
using Microsoft.Extensions.Time.Testing;

namespace Headless.Discovery.Testing.Tests;

/// <summary>The shipped service double: what publishing does to Current, Changed, waiters and watchers.</summary>
public sealed class FakeHeadlessServiceTests
{
    private static PodEndpoint Pod(int n) => new(IPAddress.Parse($"10.0.0.{n}"), 80);

    [Fact]
    public void Before_any_publish_current_is_the_version_0_placeholder_on_the_given_clock_and_name()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero));
        var service = new FakeHeadlessService(ServiceName.Parse("db.prod.svc.cluster.local"), clock);

        Assert.Equal((0L, 0, false), (service.Current.Version, service.Current.Endpoints.Length, service.Current.Version > 0));
        Assert.Equal("db.prod.svc.cluster.local", service.Name.ToString());
        Assert.Same(clock, service.TimeProvider);
        Assert.Same(TimeProvider.System, new FakeHeadlessService().TimeProvider);
        Assert.Equal("web.default.svc.cluster.local", new FakeHeadlessService().Name.ToString());

        clock.Advance(TimeSpan.FromMinutes(1));
        EndpointSet set = service.Publish([Pod(2), Pod(1), Pod(2)]);
        Assert.Equal(clock.GetUtcNow(), set.ResolvedAt);
        Assert.Equal<PodEndpoint>([Pod(1), Pod(2)], set.Endpoints);
    }

    [Fact]
    public void Initial_pods_are_published_as_version_1_and_none_publish_nothing()
    {
        Assert.Equal(1, new FakeHeadlessService(Pod(1), Pod(2)).Current.Version);
        Assert.Equal(0, new FakeHeadlessService([]).Current.Version);
    }

    [Fact]
    public void Each_publish_moves_the_version_and_raises_changed_once_in_order_before_returning()
    {
        var service = new FakeHeadlessService();
        var seen = new List<EndpointSetChange>();
        service.Changed += (sender, change) =>
        {
            Assert.Same(service, sender);
            seen.Add(change);
        };

        service.Publish([Pod(1)]);
        Assert.Single(seen);
        service.Publish([new EndpointStatus(Pod(1), EndpointHealth.Unhealthy), new EndpointStatus(Pod(2), EndpointHealth.Healthy)]);
        service.Publish(EndpointSet.Create(service.Name, [Pod(2)], 7, DateTimeOffset.UnixEpoch, TimeSpan.FromSeconds(1)));
        service.Publish([Pod(3)]);

        Assert.Equal([1L, 2, 7, 8], seen.Select(c => c.Current.Version));
        Assert.Equal(
            [EndpointSetChangeKind.Membership, EndpointSetChangeKind.Membership | EndpointSetChangeKind.Health, EndpointSetChangeKind.Membership | EndpointSetChangeKind.Health, EndpointSetChangeKind.Membership],
            seen.Select(c => c.Kind));
        Assert.Equal<PodEndpoint>([Pod(2)], seen[1].Added);
        Assert.All(seen.Skip(1).Zip(seen), pair => Assert.Same(pair.Second.Current, pair.First.Previous));
    }

    [Fact]
    public void A_change_published_by_a_handler_is_delivered_after_the_one_being_delivered()
    {
        var service = new FakeHeadlessService();
        var first = new List<long>();
        var second = new List<long>();
        service.Changed += (_, change) =>
        {
            first.Add(change.Current.Version);
            if (change.Current.Version == 1)
            {
                service.Publish([Pod(2)]);
            }
        };
        service.Changed += (_, change) => second.Add(change.Current.Version);

        service.Publish([Pod(1)]);

        Assert.Equal([1L, 2], first);
        Assert.Equal([1L, 2], second);
    }

    [Fact]
    public void Health_per_pod_sets_the_available_pods_and_panic_makes_every_pod_available()
    {
        var service = new FakeHeadlessService();
        EndpointSet set = service.Publish(
            [new EndpointStatus(Pod(3)), new EndpointStatus(Pod(1), EndpointHealth.Unhealthy), new EndpointStatus(Pod(2), isEjected: true)]);
        Assert.Equal<PodEndpoint>([Pod(1), Pod(2), Pod(3)], set.Endpoints);
        Assert.Equal<PodEndpoint>([Pod(3)], set.Available);
        Assert.Equal((1, 1, false), (set.UnhealthyCount, set.EjectedCount, set.IsPanic));

        EndpointSet panic = service.Publish([new EndpointStatus(Pod(1), EndpointHealth.Unhealthy)], isPanic: true);
        Assert.Equal<PodEndpoint>([Pod(1)], panic.Available);
        Assert.True(panic.IsPanic);
    }

    [Fact]
    public void A_snapshot_of_another_service_or_an_old_version_is_refused()
    {
        var service = new FakeHeadlessService(Pod(1));
        Assert.Throws<ArgumentException>(() => service.Publish(EndpointSet.Create(service.Name, [Pod(2)], 1, DateTimeOffset.UnixEpoch, TimeSpan.Zero)));
        Assert.Throws<ArgumentException>(() => service.Publish(EndpointSet.Create(ServiceName.Parse("other.default.svc.cluster.local"), [Pod(2)], 5, DateTimeOffset.UnixEpoch, TimeSpan.Zero)));
        Assert.Equal(1, service.Current.Version);
    }

    [Fact]
    public async Task Waits_complete_only_with_a_publish_that_has_enough_pods()
    {
        var service = new FakeHeadlessService();
        ValueTask<EndpointSet> any = service.GetEndpointsAsync();
        ValueTask<EndpointSet> two = service.WaitForEndpointsAsync(2);
        Assert.False(any.IsCompleted);

        EndpointSet empty = service.Publish([]);
        Assert.Same(empty, await any.AsTask().WaitAsync(TestTimeouts.Generous));
        Assert.False(two.IsCompleted);

        service.Publish([Pod(1)]);
        Assert.False(two.IsCompleted);
        EndpointSet enough = service.Publish([Pod(1), Pod(2), Pod(3)]);
        Assert.Same(enough, await two.AsTask().WaitAsync(TestTimeouts.Generous));

        // Already satisfied: at once.
        Assert.True(service.WaitForEndpointsAsync(3).IsCompletedSuccessfully);
        Assert.True(service.GetEndpointsAsync().IsCompletedSuccessfully);
        Assert.Throws<ArgumentOutOfRangeException>(() => service.WaitForEndpointsAsync(0));
    }

    [Fact]
    public async Task A_cancelled_wait_throws_and_disposal_fails_the_pending_ones()
    {
        var service = new FakeHeadlessService();
        using var cts = new CancellationTokenSource();
        ValueTask<EndpointSet> cancelled = service.WaitForEndpointsAsync(1, cts.Token);
        ValueTask<EndpointSet> pending = service.GetEndpointsAsync();

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.AsTask().WaitAsync(TestTimeouts.Generous));

        Assert.False(service.Stopping.IsCancellationRequested);
        await service.DisposeAsync();
        await service.DisposeAsync();
        Assert.True(service.Stopping.IsCancellationRequested);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => pending.AsTask().WaitAsync(TestTimeouts.Generous));
        Assert.Throws<ObjectDisposedException>(() => service.Publish([Pod(1)]));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => service.RefreshAsync().AsTask());
    }

    [Fact]
    public async Task A_watch_yields_the_current_snapshot_then_every_published_change_until_disposal()
    {
        var service = new FakeHeadlessService(Pod(1));
        await using IAsyncEnumerator<EndpointSetChange> watch = service.WatchAsync().GetAsyncEnumerator();

        Assert.True(await watch.MoveNextAsync().AsTask().WaitAsync(TestTimeouts.Generous));
        Assert.Equal((EndpointSetChangeKind.Initial, 1L, (EndpointSet?)null), (watch.Current.Kind, watch.Current.Current.Version, watch.Current.Previous));

        service.Publish([Pod(1), Pod(2)]);
        service.Publish([Pod(2)]);
        service.Publish([Pod(2)]);
        EndpointSet? last = service.Current;
        var versions = new List<long>();
        EndpointSet? previous = null;
        for (int i = 0; i < 3; i++)
        {
            Assert.True(await watch.MoveNextAsync().AsTask().WaitAsync(TestTimeouts.Generous));
            versions.Add(watch.Current.Current.Version);
            Assert.NotNull(watch.Current.Previous);
            if (previous is not null)
            {
                Assert.Same(previous, watch.Current.Previous);
            }

            previous = watch.Current.Current;
        }

        Assert.Equal([2L, 3, 4], versions);
        Assert.Same(last, previous);
        Assert.Equal(EndpointSetChangeKind.None, watch.Current.Kind);

        ValueTask<bool> next = watch.MoveNextAsync();
        Assert.False(next.IsCompleted);
        await service.DisposeAsync();
        Assert.False(await next.AsTask().WaitAsync(TestTimeouts.Generous));
    }

    [Fact]
    public async Task A_watch_started_before_the_first_publish_begins_with_it_and_cancellation_ends_it()
    {
        var service = new FakeHeadlessService();
        using var cts = new CancellationTokenSource();
        await using IAsyncEnumerator<EndpointSetChange> watch = service.WatchAsync(cts.Token).GetAsyncEnumerator();
        ValueTask<bool> first = watch.MoveNextAsync();
        Assert.False(first.IsCompleted);

        service.Publish([Pod(1)]);
        Assert.True(await first.AsTask().WaitAsync(TestTimeouts.Generous));
        Assert.Equal((EndpointSetChangeKind.Initial, 1L), (watch.Current.Kind, watch.Current.Current.Version));

        ValueTask<bool> second = watch.MoveNextAsync();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second.AsTask().WaitAsync(TestTimeouts.Generous));
    }

    [Fact]
    public async Task Outcomes_and_refreshes_are_recorded_and_the_outcome_hook_runs_after_recording()
    {
        var service = new FakeHeadlessService(Pod(1));
        int recordedWhenHooked = -1;
        service.OutcomeReported += (pod, succeeded, latency) => recordedWhenHooked = service.Outcomes.Count;

        service.ReportOutcome(Pod(1), true, TimeSpan.FromMilliseconds(3));
        service.ReportOutcome(Pod(9), false);
        Assert.Equal([(Pod(1), true, TimeSpan.FromMilliseconds(3)), (Pod(9), false, TimeSpan.Zero)], service.Outcomes);
        Assert.Equal(2, recordedWhenHooked);

        Assert.Same(service.Current, await service.RefreshAsync());
        await service.RefreshAsync();
        Assert.Equal(2, service.RefreshCount);
        Assert.Equal(1, service.Current.Version);
        service.Start();
    }

    [Fact]
    public void The_current_read_hook_runs_on_every_read()
    {
        var service = new FakeHeadlessService(Pod(1));
        int reads = 0;
        service.CurrentRead += () => reads++;

        _ = service.Current;
        _ = ((IHeadlessService)service).GetHealthDetails();
        Assert.Equal(2, reads);
    }
}
