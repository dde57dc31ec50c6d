using System.Collections.Concurrent;
using Headless.Discovery;
using static Headless.Discovery.Tests.Refresh.ScriptedAnswers;

namespace Headless.Discovery.Tests.Refresh;

public sealed class HeadlessServiceTests : IAsyncLifetime
{
    private static readonly ServiceName Svc = ServiceName.Parse("web.default.svc.cluster.local");

    private readonly RefreshClock _time = new();
    private readonly ConstantRandom _random = new(0.5); // mid-range: jitter adds nothing
    private readonly ScriptedResolver _resolver = new(ScriptedAnswers.Default);
    private readonly List<HeadlessService> _services = [];

    private HeadlessService Create(Action<HeadlessServiceOptions>? configure = null, bool exactJitter = true)
    {
        var options = new HeadlessServiceOptions { MinRefreshInterval = TimeSpan.FromSeconds(1), MaxRefreshInterval = TimeSpan.FromSeconds(30) };
        configure?.Invoke(options);
        var service = new HeadlessService(Svc, _resolver, options, _time, random: exactJitter ? _random : null);
        _services.Add(service);
        return service;
    }

    /// <summary>Starts the service and waits for the first round to end (its last act arms the refresh timer).</summary>
    private async Task<EndpointSet> StartAsync(HeadlessService service)
    {
        Task armed = _time.NextArmed();
        EndpointSet first = await service.GetEndpointsAsync().AsTask().WaitAsync(Generous);
        if (_time.LastArmed == Timeout.InfiniteTimeSpan)
        {
            await armed.WaitAsync(Generous);
        }

        return first;
    }

    /// <summary>Advances fake time by <paramref name="by"/> and waits for the refresh round the timer triggers to end.</summary>
    private async Task TickAsync(HeadlessService service, TimeSpan by)
    {
        Assert.False(service.Current.Version == 0 && _time.LastArmed == Timeout.InfiniteTimeSpan, "start the service first");
        Task armed = _time.NextArmed();
        _time.Advance(by);
        await armed.WaitAsync(Generous);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (HeadlessService s in _services)
        {
            await s.DisposeAsync();
        }
    }

    [Fact]
    public async Task Current_is_an_empty_version_0_placeholder_before_the_first_round()
    {
        HeadlessService service = Create();
        Assert.Equal(0, service.Current.Version);
        Assert.False(service.Current.IsInitialized);
        Assert.Empty(service.Current.Endpoints);
        Assert.Equal(0, _resolver.Calls);

        EndpointSet first = await StartAsync(service);
        Assert.Equal(1, first.Version);
        Assert.Equal(["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"], first.Endpoints.Select(e => e.Key));
        Assert.Same(first, service.Current);
        Assert.Equal(_time.GetUtcNow(), first.ResolvedAt);
        Assert.Equal(TimeSpan.FromSeconds(5), first.Ttl);
    }

    [Fact]
    public async Task Next_refresh_follows_the_answer_ttl()
    {
        HeadlessService service = Create();
        await StartAsync(service);
        Assert.Equal(TimeSpan.FromSeconds(5), _time.LastArmed);

        _time.Advance(TimeSpan.FromSeconds(4.9));
        Assert.Equal(1, _resolver.Calls);

        await TickAsync(service, TimeSpan.FromSeconds(0.1));
        Assert.Equal(2, _resolver.Calls);
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(0.2, 1)]
    [InlineData(7, 7)]
    [InlineData(30, 30)]
    [InlineData(3600, 30)]
    public async Task Ttl_is_clamped_to_the_refresh_bounds(double ttlSeconds, double expectedSeconds)
    {
        _resolver.Fallback = ResolutionResult.Success([Pod(1)], TimeSpan.FromSeconds(ttlSeconds));
        HeadlessService service = Create();
        await StartAsync(service);
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), _time.LastArmed);
    }

    [Fact]
    public async Task Jitter_spreads_the_scheduled_refresh_within_the_configured_fraction()
    {
        // The bounds and edges of the formula are properties of RefreshSchedule (RefreshScheduleTests); here: the
        // service uses it, with the random source it was given.
        _resolver.Fallback = Ok(10, 1);
        _random.Value = 0.0;
        HeadlessService service = Create(o => o.RefreshJitter = 0.2);
        await StartAsync(service);
        Assert.Equal(TimeSpan.FromSeconds(8), _time.LastArmed);

        _random.Value = 0.999_999;
        await TickAsync(service, _time.LastArmed);
        Assert.InRange(_time.LastArmed, TimeSpan.FromSeconds(11.99), TimeSpan.FromSeconds(12));
    }

    [Fact]
    public async Task An_unchanged_answer_publishes_no_new_version()
    {
        HeadlessService service = Create();
        var log = new ChangeLog();
        service.Changed += log.Handler;
        EndpointSet first = await StartAsync(service);

        for (int i = 0; i < 5; i++)
        {
            await TickAsync(service, TimeSpan.FromSeconds(5));
        }

        Assert.Equal(6, _resolver.Calls);
        Assert.Same(first, service.Current);
        await log.WaitForAsync(1).WaitAsync(Generous);
        Assert.Equal([1L], log.Seen);
    }

    [Fact]
    public async Task Scale_up_and_down_publish_added_and_removed()
    {
        var changes = new ChangeLog();
        HeadlessService service = Create();
        service.Changed += changes.Handler;
        await StartAsync(service);

        _resolver.Fallback = Ok(5, 1, 2, 3, 4, 5);
        await TickAsync(service, TimeSpan.FromSeconds(5));
        _resolver.Fallback = Ok(5, 4, 5);
        await TickAsync(service, TimeSpan.FromSeconds(5));

        await changes.WaitForAsync(3).WaitAsync(Generous);
        EndpointSetChange[] all = changes.Changes;
        Assert.Equal(3, all.Length);
        Assert.Equal(EndpointSetChangeKind.Initial, all[0].Kind);
        Assert.Equal(3, all[0].Added.Length);
        Assert.Equal(["10.0.0.4:80", "10.0.0.5:80"], all[1].Added.Select(e => e.Key));
        Assert.Empty(all[1].Removed);
        Assert.Equal(EndpointSetChangeKind.Membership, all[1].Kind);
        Assert.Equal(["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"], all[2].Removed.Select(e => e.Key));
        Assert.Empty(all[2].Added);
        Assert.Equal([1L, 2L, 3L], all.Select(c => c.Current.Version));
        Assert.Equal(2, service.Current.Count);
    }

    [Fact]
    public async Task A_failure_keeps_the_endpoints_marked_stale_and_recovery_clears_it()
    {
        var changes = new ChangeLog();
        HeadlessService service = Create();
        service.Changed += changes.Handler;
        EndpointSet good = await StartAsync(service);

        _resolver.Enqueue(Fail("server down"), Fail("still down"));
        await TickAsync(service, TimeSpan.FromSeconds(5));

        EndpointSet stale = service.Current;
        Assert.True(stale.IsStale);
        Assert.Equal(2, stale.Version);
        Assert.Equal(good.Endpoints, stale.Endpoints);
        Assert.Equal(_time.GetUtcNow(), stale.StaleSince);
        Assert.IsType<TimeoutException>(stale.LastError);
        Assert.Equal("server down", stale.LastError!.Message);
        Assert.Equal(good.ResolvedAt, stale.ResolvedAt);

        // A second failure changes nothing a reader could act on: no new version.
        await TickAsync(service, _time.LastArmed);
        Assert.Same(stale, service.Current);

        // Recovery with the same members still publishes: staleness changed.
        await TickAsync(service, _time.LastArmed);
        EndpointSet fresh = service.Current;
        Assert.False(fresh.IsStale);
        Assert.Null(fresh.LastError);
        Assert.Null(fresh.StaleSince);
        Assert.Equal(3, fresh.Version);
        Assert.Equal(good.Endpoints.ToArray(), fresh.Endpoints.ToArray());

        await changes.WaitForAsync(3).WaitAsync(Generous);
        EndpointSetChange[] all = changes.Changes;
        Assert.Equal(EndpointSetChangeKind.Staleness, all[1].Kind);
        Assert.Equal(EndpointSetChangeKind.Staleness, all[2].Kind);
    }

    [Fact]
    public async Task Failures_back_off_exponentially_with_jitter_up_to_the_cap()
    {
        _resolver.Fallback = Fail();
        HeadlessService service = Create(o =>
        {
            o.FailureBackoffBase = TimeSpan.FromSeconds(1);
            o.FailureBackoffMax = TimeSpan.FromSeconds(8);
        });
        _random.Value = 1.0; // upper edge of equal jitter: exactly base * 2^(n-1)
        await StartAsync(service);
        var delays = new List<TimeSpan> { _time.LastArmed };
        for (int i = 0; i < 5; i++)
        {
            await TickAsync(service, _time.LastArmed);
            delays.Add(_time.LastArmed);
        }

        Assert.Equal([1, 2, 4, 8, 8, 8], delays.Select(d => d.TotalSeconds));

        // The lower edge of equal jitter: half the nominal delay (bounds over many seeds: RefreshScheduleTests).
        _random.Value = 0.0;
        await TickAsync(service, _time.LastArmed);
        Assert.Equal(TimeSpan.FromSeconds(4), _time.LastArmed);
    }

    [Fact]
    public async Task Empty_answers_are_accepted_only_after_the_configured_confirmations()
    {
        HeadlessService service = Create(o => o.EmptyAnswerConfirmations = 3);
        EndpointSet good = await StartAsync(service);
        _resolver.Fallback = ResolutionResult.NotFound(TimeSpan.FromSeconds(5));

        await TickAsync(service, TimeSpan.FromSeconds(5));
        EndpointSet first = service.Current;
        Assert.True(first.IsStale);
        Assert.Equal(good.Endpoints, first.Endpoints);
        var pending = Assert.IsType<EmptyAnswerException>(first.LastError);
        Assert.Contains("(1 of 3 consecutive empty answers needed", pending.Message, StringComparison.Ordinal);
        Assert.Equal(ResolutionOutcome.NotFound, pending.Outcome);
        Assert.Contains("NXDOMAIN", pending.Message, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromSeconds(1), _time.LastArmed); // confirm quickly

        await TickAsync(service, _time.LastArmed);
        Assert.Equal(3, service.Current.Count);

        await TickAsync(service, _time.LastArmed);
        EndpointSet empty = service.Current;
        Assert.Empty(empty.Endpoints);
        Assert.False(empty.IsStale);
        Assert.Null(empty.LastError);
        Assert.Equal(first.Version + 1, empty.Version);
    }

    [Fact]
    public async Task A_success_between_empty_answers_resets_the_count()
    {
        HeadlessService service = Create(o => o.EmptyAnswerConfirmations = 2);
        await StartAsync(service);
        _resolver.Enqueue(ResolutionResult.NoData(), Ok(5, 1, 2, 3), ResolutionResult.NoData());
        await TickAsync(service, TimeSpan.FromSeconds(5));
        await TickAsync(service, _time.LastArmed);
        await TickAsync(service, _time.LastArmed);
        Assert.Equal(3, service.Current.Count);
        Assert.True(service.Current.IsStale);
        Assert.Contains("answered NODATA (1 of 2 consecutive", Assert.IsType<EmptyAnswerException>(service.Current.LastError).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_one_confirmation_an_empty_answer_is_accepted_at_once()
    {
        HeadlessService service = Create(o => o.EmptyAnswerConfirmations = 1);
        await StartAsync(service);
        _resolver.Fallback = ResolutionResult.NoData();
        await TickAsync(service, TimeSpan.FromSeconds(5));
        Assert.Empty(service.Current.Endpoints);
        Assert.False(service.Current.IsStale);
    }

    [Fact]
    public async Task An_empty_first_answer_is_accepted_at_once()
    {
        _resolver.Fallback = ResolutionResult.NotFound();
        HeadlessService service = Create(o => o.EmptyAnswerConfirmations = 5);
        EndpointSet first = await StartAsync(service);
        Assert.Equal(1, first.Version);
        Assert.Empty(first.Endpoints);
        Assert.False(first.IsStale);

        // Staying empty publishes nothing new.
        await TickAsync(service, _time.LastArmed);
        Assert.Same(first, service.Current);
    }

    [Fact]
    public async Task Stale_endpoints_are_dropped_after_max_staleness()
    {
        HeadlessService service = Create(o =>
        {
            o.MaxStaleness = TimeSpan.FromSeconds(10);
            o.FailureBackoffBase = TimeSpan.FromSeconds(4);
            o.FailureBackoffMax = TimeSpan.FromSeconds(4);
        });
        await StartAsync(service);
        _random.Value = 1.0;
        _resolver.Fallback = Fail();
        await TickAsync(service, TimeSpan.FromSeconds(5)); // stale at t=5
        await TickAsync(service, TimeSpan.FromSeconds(4)); // t=9
        await TickAsync(service, TimeSpan.FromSeconds(4)); // t=13: 8 s stale
        Assert.Equal(3, service.Current.Count);
        await TickAsync(service, TimeSpan.FromSeconds(4)); // t=17: 12 s stale
        Assert.Empty(service.Current.Endpoints);
        Assert.True(service.Current.IsStale);
        Assert.NotNull(service.Current.LastError);
    }

    [Fact]
    public async Task By_default_an_outage_never_empties_the_set()
    {
        HeadlessService service = Create();
        await StartAsync(service);
        _resolver.Fallback = Fail();
        for (int i = 0; i < 20; i++)
        {
            await TickAsync(service, _time.LastArmed);
        }

        Assert.Equal(3, service.Current.Count);
        Assert.True(service.Current.IsStale);
        Assert.True(_time.GetUtcNow() - service.Current.StaleSince > TimeSpan.FromMinutes(5));
    }

    [Fact]
    public async Task A_throwing_resolver_is_treated_as_a_failure()
    {
        HeadlessService service = Create();
        await StartAsync(service);
        _resolver.EnqueueThrow(new InvalidOperationException("boom"));
        await TickAsync(service, TimeSpan.FromSeconds(5));
        Assert.True(service.Current.IsStale);
        Assert.Equal("boom", service.Current.LastError!.Message);
        Assert.Equal(3, service.Current.Count);

        await TickAsync(service, _time.LastArmed);
        Assert.False(service.Current.IsStale);
    }

    [Fact]
    public async Task WaitForEndpointsAsync_completes_when_enough_pods_appear()
    {
        HeadlessService service = Create();
        await StartAsync(service);
        Task<EndpointSet> wait = service.WaitForEndpointsAsync(5).AsTask();
        Assert.False(wait.IsCompleted);

        _resolver.Fallback = Ok(5, 1, 2, 3, 4);
        await TickAsync(service, TimeSpan.FromSeconds(5));
        Assert.False(wait.IsCompleted);

        _resolver.Fallback = Ok(5, 1, 2, 3, 4, 5, 6);
        await TickAsync(service, TimeSpan.FromSeconds(5));
        EndpointSet set = await wait.WaitAsync(Generous);
        Assert.Equal(6, set.Count);

        // Already satisfied: completes synchronously.
        ValueTask<EndpointSet> again = service.WaitForEndpointsAsync(2);
        Assert.True(again.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task WaitForEndpointsAsync_honours_cancellation()
    {
        HeadlessService service = Create();
        await StartAsync(service);
        using var cts = new CancellationTokenSource();
        Task<EndpointSet> wait = service.WaitForEndpointsAsync(10, cts.Token).AsTask();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait.WaitAsync(Generous));
        Assert.Throws<ArgumentOutOfRangeException>(() => service.WaitForEndpointsAsync(0));
    }

    [Fact]
    public async Task GetEndpointsAsync_completes_synchronously_once_a_snapshot_exists()
    {
        HeadlessService service = Create();
        await StartAsync(service);
        ValueTask<EndpointSet> get = service.GetEndpointsAsync();
        Assert.True(get.IsCompletedSuccessfully);
        Assert.Same(service.Current, await get);
    }

    [Fact]
    public async Task WatchAsync_starts_with_the_current_snapshot_then_streams_changes()
    {
        HeadlessService service = Create();

        // The first round ends by arming the refresh timer, after it publishes: a tick before that would be lost.
        await StartAsync(service);
        await using IAsyncEnumerator<EndpointSetChange> watch = service.WatchAsync().GetAsyncEnumerator();

        Assert.True(await watch.MoveNextAsync().AsTask().WaitAsync(Generous));
        Assert.Equal(EndpointSetChangeKind.Initial, watch.Current.Kind);
        Assert.Null(watch.Current.Previous);
        Assert.Equal(3, watch.Current.Added.Length);

        _resolver.Fallback = Ok(5, 1, 2, 3, 9);
        await TickAsync(service, TimeSpan.FromSeconds(5));
        Assert.True(await watch.MoveNextAsync().AsTask().WaitAsync(Generous));
        Assert.Equal(["10.0.0.9:80"], watch.Current.Added.Select(e => e.Key));
        Assert.Equal(2, watch.Current.Current.Version);
    }

    [Fact]
    public async Task A_slow_watcher_gets_one_coalesced_change_to_the_latest_state()
    {
        HeadlessService service = Create();
        await StartAsync(service); // the ticks below must find the refresh timer armed
        await using IAsyncEnumerator<EndpointSetChange> watch = service.WatchAsync().GetAsyncEnumerator();
        Assert.True(await watch.MoveNextAsync().AsTask().WaitAsync(Generous));

        // Three versions are published while the watcher is not reading.
        _resolver.Enqueue(Ok(5, 1, 2, 3, 4), Ok(5, 1, 2, 3, 4, 5), Ok(5, 2, 3, 4, 5));
        for (int i = 0; i < 3; i++)
        {
            await TickAsync(service, TimeSpan.FromSeconds(5));
        }

        Assert.Equal(4, service.Current.Version);
        Assert.True(await watch.MoveNextAsync().AsTask().WaitAsync(Generous));
        EndpointSetChange change = watch.Current;
        Assert.Equal(1, change.Previous!.Version);
        Assert.Equal(4, change.Current.Version);
        Assert.Equal(["10.0.0.4:80", "10.0.0.5:80"], change.Added.Select(e => e.Key));
        Assert.Equal(["10.0.0.1:80"], change.Removed.Select(e => e.Key));
    }

    [Fact]
    public async Task Watchers_end_when_the_service_is_disposed()
    {
        HeadlessService service = Create();
        IAsyncEnumerator<EndpointSetChange> watch = service.WatchAsync().GetAsyncEnumerator();
        Assert.True(await watch.MoveNextAsync().AsTask().WaitAsync(Generous));
        ValueTask<bool> next = watch.MoveNextAsync();
        await service.DisposeAsync();
        Assert.False(await next.AsTask().WaitAsync(Generous));
        await watch.DisposeAsync();
    }

    [Fact]
    public async Task RefreshAsync_resolves_now_and_reschedules_without_a_double_refresh()
    {
        HeadlessService service = Create();
        await StartAsync(service);
        _time.Advance(TimeSpan.FromSeconds(4));
        _resolver.Fallback = Ok(5, 7);
        EndpointSet refreshed = await service.RefreshAsync().AsTask().WaitAsync(Generous);
        Assert.Equal(["10.0.0.7:80"], refreshed.Endpoints.Select(e => e.Key));
        Assert.Equal(2, _resolver.Calls);

        // The original tick (t=5) is gone: the next is 5 s after the manual refresh (t=9).
        _time.Advance(TimeSpan.FromSeconds(4.5));
        Assert.Equal(2, _resolver.Calls);
        await TickAsync(service, TimeSpan.FromSeconds(0.5));
        Assert.Equal(3, _resolver.Calls);
    }

    [Fact]
    public async Task A_cancelled_RefreshAsync_throws_OperationCanceledException_and_the_loop_goes_on()
    {
        HeadlessService service = Create();
        await StartAsync(service);
        _resolver.Block();
        using var cts = new CancellationTokenSource();
        Task refresh = service.RefreshAsync(cts.Token).AsTask();
        await _resolver.Entered.WaitAsync(Generous);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => refresh.WaitAsync(Generous));
        Assert.False(service.Current.IsStale);

        _resolver.Release();
        _resolver.Fallback = Ok(5, 4);
        EndpointSet after = await service.RefreshAsync().AsTask().WaitAsync(Generous);
        Assert.Equal(["10.0.0.4:80"], after.Endpoints.Select(e => e.Key));
    }

    [Fact]
    public async Task Dispose_stops_the_timer_and_cancels_an_in_flight_refresh()
    {
        HeadlessService service = Create();
        await StartAsync(service);
        _resolver.Block();
        _time.Advance(TimeSpan.FromSeconds(5));
        await _resolver.Entered.WaitAsync(Generous);

        await service.DisposeAsync().AsTask().WaitAsync(Generous);
        int calls = _resolver.Calls;
        _time.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(calls, _resolver.Calls);

        await Assert.ThrowsAsync<ObjectDisposedException>(() => service.WaitForEndpointsAsync(50).AsTask());
        await Assert.ThrowsAsync<ObjectDisposedException>(() => service.RefreshAsync().AsTask());
        Assert.Throws<ObjectDisposedException>(service.Start);
        await service.DisposeAsync(); // idempotent
    }

    [Fact]
    public async Task Options_changed_after_construction_have_no_effect()
    {
        var options = new HeadlessServiceOptions { MinRefreshInterval = TimeSpan.FromSeconds(1), MaxRefreshInterval = TimeSpan.FromSeconds(30), RefreshJitter = 0 };
        var service = new HeadlessService(Svc, _resolver, options, _time);
        _services.Add(service);
        var log = new ChangeLog();
        service.Changed += log.Handler;
        await StartAsync(service);

        // Nonsense that validation would refuse, set after the service was built: the service never sees it.
        options.MinRefreshInterval = TimeSpan.FromSeconds(-5);
        options.MaxRefreshInterval = TimeSpan.FromSeconds(-1);
        options.RefreshJitter = 7;
        options.EmptyAnswerConfirmations = 0;

        _resolver.Fallback = Ok(5, 4);
        _time.Advance(TimeSpan.FromSeconds(5));
        await log.WaitForAsync(2).WaitAsync(Generous);
        Assert.Equal(["10.0.0.4:80"], service.Current.Endpoints.Select(e => e.Key));

        _resolver.Fallback = Ok(5, 5);
        EndpointSet refreshed = await service.RefreshAsync().AsTask().WaitAsync(Generous);
        Assert.Equal(["10.0.0.5:80"], refreshed.Endpoints.Select(e => e.Key));

        // The loop still runs on the TTL it was built with.
        _resolver.Fallback = Ok(5, 6);
        _time.Advance(TimeSpan.FromSeconds(5));
        await log.WaitForAsync(4).WaitAsync(Generous);
        Assert.Equal(["10.0.0.6:80"], service.Current.Endpoints.Select(e => e.Key));
    }

    [Fact]
    public async Task A_throwing_Changed_handler_does_not_stop_the_loop_or_other_handlers()
    {
        HeadlessService service = Create();
        var good = new ChangeLog();
        service.Changed += (_, _) => throw new InvalidOperationException("bad handler");
        service.Changed += good.Handler;
        await StartAsync(service);
        _resolver.Fallback = Ok(5, 8);
        await TickAsync(service, TimeSpan.FromSeconds(5));
        Assert.Equal(2, service.Current.Version);
        await good.WaitForAsync(2).WaitAsync(Generous);
        Assert.Equal([1L, 2L], good.Seen);
    }

    [Fact]
    public async Task Readers_see_whole_snapshots_while_refreshes_run()
    {
        var resolver = new ChurningResolver();
        var service = new HeadlessService(Svc, resolver, new HeadlessServiceOptions());
        _services.Add(service);
        await service.GetEndpointsAsync().AsTask().WaitAsync(Generous);

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        int refreshes = 0;
        Task writer = Task.Run(async () =>
        {
            for (int i = 0; i < 300 && !stop.IsCancellationRequested; i++)
            {
                await service.RefreshAsync(stop.Token);
                Interlocked.Increment(ref refreshes);
            }
        });

        var errors = new ConcurrentQueue<string>();
        Task[] readers = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            long lastVersion = 0;
            for (int i = 0; i < 200_000 && !writer.IsCompleted; i++)
            {
                EndpointSet s = service.Current;
                if (s.Version < lastVersion)
                {
                    errors.Enqueue($"version went back from {lastVersion} to {s.Version}");
                }

                lastVersion = s.Version;
                // Each answer is "n consecutive pods starting at 1": a torn snapshot would break that.
                for (int k = 0; k < s.Endpoints.Length; k++)
                {
                    if (s.Endpoints[k].Port != 1000 + k)
                    {
                        errors.Enqueue($"torn snapshot v{s.Version}");
                        break;
                    }
                }
            }
        })).ToArray();

        await Task.WhenAll(readers.Append(writer)).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Empty(errors);
        Assert.True(refreshes > 10);
        Assert.True(service.Current.Version > 10);
    }

    private sealed class ChurningResolver : IEndpointResolver
    {
        private int _n;

        public ValueTask<ResolutionResult> ResolveAsync(ServiceName service, CancellationToken cancellationToken = default)
        {
            int count = (Interlocked.Increment(ref _n) % 7) + 1;
            var pods = Enumerable.Range(0, count).Select(k => new PodEndpoint(System.Net.IPAddress.Loopback, 1000 + k));
            return new ValueTask<ResolutionResult>(ResolutionResult.Success(pods, TimeSpan.FromSeconds(1)));
        }
    }
}
