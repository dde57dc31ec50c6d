using CsCheck;
using Headless.Discovery.TestSupport;
using Microsoft.Extensions.Time.Testing;
using static Headless.Discovery.Tests.Refresh.ScriptedAnswers;

namespace Headless.Discovery.Tests.Refresh;

/// <summary>
/// The delivery promises of <see cref="IHeadlessService.Changed"/> and <see cref="IHeadlessService.WatchAsync"/>: handlers
/// run outside the publish lock, one delivery at a time, in version order; a publish caused inside a handler is delivered
/// after the current one; handlers may call back into the service (outcomes, refresh, dispose) without deadlocking; a
/// watcher that falls behind still ends on the latest version.
/// </summary>
public sealed class ChangeDeliveryTests : IAsyncLifetime
{
    private static readonly ServiceName Svc = ServiceName.Parse("web.default.svc.cluster.local");

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly List<HeadlessService> _services = [];

    /// <summary>One failure ejects a pod, every pod may be ejected and panic mode is off, so each outcome publishes.</summary>
    private HeadlessService Create(ScriptedResolver resolver, bool track = true)
    {
        var options = new HeadlessServiceOptions { PanicThreshold = 0 };
        options.PassiveHealth.ConsecutiveFailures = 1;
        options.PassiveHealth.MaxEjectionPercent = 100;
        var service = new HeadlessService(Svc, resolver, options, _time);
        if (track)
        {
            _services.Add(service);
        }

        return service;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (HeadlessService s in _services)
        {
            await s.DisposeAsync().AsTask().WaitAsync(Generous);
        }
    }

    [Fact]
    public async Task Changed_handlers_see_strictly_increasing_versions_when_a_handler_ejects_a_pod()
    {
        HeadlessService service = Create(new ScriptedResolver(ScriptedAnswers.Default));
        var first = new ChangeLog();
        var second = new ChangeLog();
        service.Changed += (_, c) =>
        {
            first.Record(c.Current.Version);
            if (c.Current.Version == 1)
            {
                // Ejects a pod: publishes v2 while v1 is being delivered.
                service.ReportOutcome(c.Current.Endpoints[0], false, TimeSpan.FromMilliseconds(1));
            }
        };
        service.Changed += (_, c) => second.Record(c.Current.Version);

        await service.GetEndpointsAsync().AsTask().WaitAsync(Generous);
        await Task.WhenAll(first.WaitForAsync(2), second.WaitForAsync(2)).WaitAsync(Generous);

        Assert.Equal(2, service.Current.Version);
        Assert.Equal(1, service.Current.EjectedCount);
        Assert.Equal([1L, 2L], first.Seen);
        Assert.Equal([1L, 2L], second.Seen);
    }

    [Fact]
    public async Task A_slow_handler_does_not_hold_up_publication()
    {
        var resolver = new ScriptedResolver(ScriptedAnswers.Default);
        HeadlessService service = Create(resolver);
        using var release = new ManualResetEventSlim();
        var inHandler = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var log = new ChangeLog();
        service.Changed += (_, c) =>
        {
            inHandler.TrySetResult();
            release.Wait(Generous);
            log.Record(c.Current.Version);
        };

        await service.GetEndpointsAsync().AsTask().WaitAsync(Generous);
        await inHandler.Task.WaitAsync(Generous);

        // The handler still holds v1's delivery: refreshes, waiters and readers go on without it.
        resolver.Fallback = Ok(5, 4, 5);
        EndpointSet refreshed = await service.RefreshAsync().AsTask().WaitAsync(Generous);
        Assert.Equal(2, refreshed.Version);
        Assert.Same(refreshed, service.Current);
        Assert.Empty(log.Seen);

        release.Set();
        await log.WaitForAsync(2).WaitAsync(Generous);
        Assert.Equal([1L, 2L], log.Seen);
    }

    [Fact]
    public async Task A_handler_that_awaits_RefreshAsync_does_not_deadlock()
    {
        var resolver = new ScriptedResolver(ScriptedAnswers.Default);
        HeadlessService service = Create(resolver);
        var log = new ChangeLog();
        service.Changed += (_, c) =>
        {
            if (c.Current.Version == 1)
            {
                resolver.Fallback = Ok(5, 7);
                EndpointSet after = service.RefreshAsync().AsTask().GetAwaiter().GetResult();
                Assert.Equal(2, after.Version);
            }

            log.Record(c.Current.Version);
        };

        await service.GetEndpointsAsync().AsTask().WaitAsync(Generous);
        await log.WaitForAsync(2).WaitAsync(Generous);
        Assert.Equal([1L, 2L], log.Seen);
    }

    [Fact]
    public async Task A_handler_that_disposes_the_service_does_not_deadlock()
    {
        // Not tracked: on a deadlock, disposing it again at the end of the test would hang too.
        HeadlessService service = Create(new ScriptedResolver(ScriptedAnswers.Default), track: false);
        var disposed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        service.Changed += (_, _) =>
        {
            service.DisposeAsync().AsTask().GetAwaiter().GetResult();
            disposed.TrySetResult();
        };

        await service.GetEndpointsAsync().AsTask().WaitAsync(Generous);
        await disposed.Task.WaitAsync(Generous);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => service.RefreshAsync().AsTask());
    }

    [Fact]
    public async Task No_handler_runs_after_DisposeAsync_completes()
    {
        var resolver = new ScriptedResolver(ScriptedAnswers.Default);
        HeadlessService service = Create(resolver, track: false);
        using var release = new ManualResetEventSlim();
        var inHandler = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int running = 0;
        int afterDispose = 0;
        bool disposedFlag = false;
        service.Changed += (_, _) =>
        {
            Interlocked.Increment(ref running);
            inHandler.TrySetResult();
            release.Wait(Generous);
            if (Volatile.Read(ref disposedFlag))
            {
                Interlocked.Increment(ref afterDispose);
            }

            Interlocked.Decrement(ref running);
        };

        await service.GetEndpointsAsync().AsTask().WaitAsync(Generous);
        await inHandler.Task.WaitAsync(Generous);
        Task dispose = service.DisposeAsync().AsTask();
        Assert.False(dispose.IsCompleted); // it waits for the delivery in progress
        release.Set();
        await dispose.WaitAsync(Generous);
        Volatile.Write(ref disposedFlag, true);
        Assert.Equal(0, Volatile.Read(ref running));
        Assert.Equal(0, afterDispose);
    }

    /// <summary>
    /// Property: under churn (refreshes with generated answers on one thread, failures reported from another and from
    /// inside handlers), every handler sees every published version exactly once, in increasing order, and once things
    /// settle the last version each handler saw is <see cref="IHeadlessService.Current"/>'s.
    /// </summary>
    [Fact]
    public async Task Every_handler_sees_every_version_once_in_order_under_churn()
    {
        Gen<(int[] Answers, int Handlers, int ReportPercent, int Seed)> scenarios = Gen.Select(
            Gen.Int[1, 63].Array[1, 12],
            Gen.Int[1, 3],
            Gen.Int[0, 100],
            Gen.Int);

        await Property.ForAllAsync(
            scenarios,
            iterations: 60,
            seed: 0x10_04_0001UL,
            async scenario =>
            {
                (int[] answers, int handlers, int reportPercent, int seed) = scenario;
                var resolver = new ScriptedResolver(Answer(answers[0]));
                await using HeadlessService service = Create(resolver, track: false);
                var random = new Random(seed);
                var logs = new ChangeLog[handlers];
                for (int h = 0; h < handlers; h++)
                {
                    ChangeLog log = logs[h] = new ChangeLog();
                    service.Changed += (_, c) =>
                    {
                        PodEndpoint? victim = null;
                        lock (random)
                        {
                            if (c.Current.Count > 0 && random.Next(100) < reportPercent)
                            {
                                victim = c.Current.Endpoints[random.Next(c.Current.Count)];
                            }
                        }

                        if (victim is not null)
                        {
                            service.ReportOutcome(victim, false, TimeSpan.FromMilliseconds(1));
                        }

                        // Recorded last, so a waiter that sees this version knows the handler (and any publish it
                        // caused) is done: the settle loop below cannot stop between the record and the publish.
                        log.Record(c.Current.Version);
                    };
                }

                await service.GetEndpointsAsync().AsTask().WaitAsync(Generous);
                Task refresher = Task.Run(async () =>
                {
                    foreach (int answer in answers.Skip(1))
                    {
                        resolver.Fallback = Answer(answer);
                        await service.RefreshAsync();
                    }
                });
                Task reporter = Task.Run(() =>
                {
                    for (int i = 0; i < answers.Length; i++)
                    {
                        EndpointSet current = service.Current;
                        if (current.Count > 0)
                        {
                            service.ReportOutcome(current.Endpoints[i % current.Count], false, TimeSpan.FromMilliseconds(1));
                        }
                    }
                });
                await Task.WhenAll(refresher, reporter).WaitAsync(Generous);

                // Settle: handlers may still publish (ejections) while they catch up.
                long settled;
                do
                {
                    settled = service.Current.Version;
                    await Task.WhenAll(logs.Select(l => l.WaitForAsync(settled))).WaitAsync(Generous);
                }
                while (service.Current.Version != settled);

                foreach (ChangeLog log in logs)
                {
                    Assert.Null(log.FirstInversion());
                    Assert.Equal(LongRange(1, settled), log.Seen);
                }
            });
    }

    [Fact]
    public async Task A_watcher_that_missed_a_flap_still_ends_on_the_latest_version()
    {
        var resolver = new ScriptedResolver(ScriptedAnswers.Default);
        HeadlessService service = Create(resolver);
        await using IAsyncEnumerator<EndpointSetChange> watch = service.WatchAsync().GetAsyncEnumerator();
        Assert.True(await watch.MoveNextAsync().AsTask().WaitAsync(Generous));
        Assert.Equal(1, watch.Current.Current.Version);

        // 3 -> 2 -> 3 pods while the watcher is not reading: v2 and v3, no net change from v1.
        resolver.Fallback = Ok(5, 1, 2);
        await service.RefreshAsync().AsTask().WaitAsync(Generous);
        resolver.Fallback = Ok(5, 1, 2, 3);
        await service.RefreshAsync().AsTask().WaitAsync(Generous);
        Assert.Equal(3, service.Current.Version);

        Assert.True(await watch.MoveNextAsync().AsTask().WaitAsync(Generous));
        EndpointSetChange change = watch.Current;
        Assert.Equal(1, change.Previous!.Version);
        Assert.Equal(3, change.Current.Version);
        Assert.Equal(EndpointSetChangeKind.None, change.Kind);
        Assert.Empty(change.Added);
        Assert.Empty(change.Removed);
    }

    /// <summary>
    /// Property: a watcher reading at a generated pace over generated churn gets a chain of changes (each item's
    /// Previous is the last snapshot it saw) whose versions strictly increase and whose last item is the latest version.
    /// </summary>
    [Fact]
    public async Task A_watcher_at_any_pace_ends_on_the_latest_version_with_a_chain_of_changes()
    {
        Gen<(int[] Answers, int[] ReadAfter)> scenarios = Gen.Select(Gen.Int[1, 7].Array[1, 10], Gen.Int[0, 3].Array[10]);
        await Property.ForAllAsync(
            scenarios,
            iterations: 100,
            seed: 0x10_11_0001UL,
            async scenario =>
            {
                (int[] answers, int[] readAfter) = scenario;
                var resolver = new ScriptedResolver(Answer(answers[0]));
                await using HeadlessService service = Create(resolver, track: false);
                await using IAsyncEnumerator<EndpointSetChange> watch = service.WatchAsync().GetAsyncEnumerator();
                Assert.True(await watch.MoveNextAsync().AsTask().WaitAsync(Generous));
                EndpointSet last = watch.Current.Current;

                for (int i = 1; i < answers.Length; i++)
                {
                    resolver.Fallback = Answer(answers[i]);
                    await service.RefreshAsync().AsTask().WaitAsync(Generous);
                    if (readAfter[i] == 0 && service.Current.Version != last.Version)
                    {
                        Assert.True(await watch.MoveNextAsync().AsTask().WaitAsync(Generous));
                        Assert.Same(last, watch.Current.Previous);
                        Assert.True(watch.Current.Current.Version > last.Version);
                        last = watch.Current.Current;
                    }
                }

                if (service.Current.Version != last.Version)
                {
                    Assert.True(await watch.MoveNextAsync().AsTask().WaitAsync(Generous));
                    Assert.Same(last, watch.Current.Previous);
                    last = watch.Current.Current;
                }

                Assert.Same(service.Current, last);
            });
    }

    /// <summary>The pods whose bits are set in <paramref name="mask"/> (1 = 10.0.0.1, 2 = 10.0.0.2, 4 = 10.0.0.3, …).</summary>
    private static ResolutionResult Answer(int mask) =>
        Ok(5, [.. Enumerable.Range(1, 6).Where(i => (mask & (1 << (i - 1))) != 0)]);

    private static long[] LongRange(long from, long to) => [.. Enumerable.Range((int)from, (int)(to - from + 1)).Select(i => (long)i)];
}
