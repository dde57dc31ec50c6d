using Headless.Discovery.Testing;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Headless.Discovery;
using Headless.Discovery.Tests.Refresh;
using Headless.Discovery.Tests.Selection;
using Headless.Discovery.TestSupport;
using Microsoft.Extensions.Time.Testing;
using Polly;
using Polly.Retry;

namespace Headless.Discovery.Tests.FanOut;

/// <summary>
/// The per-pod timeout bounds a call whatever the operation does with its token: a call that ignores it is timed out
/// at its timeout (on the fan-out's <see cref="TimeProvider"/>) and the fan-out goes on without it.
/// </summary>
public sealed class FanOutTimeoutTests
{
    private static readonly TimeSpan PerPod = TimeSpan.FromMilliseconds(100);

    /// <summary>Operations scripted by call order: the listed calls hang ignoring their token; the others succeed at once.</summary>
    private sealed class Script(params int[] hungCalls)
    {
        private int _calls;

        public SemaphoreSlim Started { get; } = new(0);

        /// <summary>What the hung calls wait for; never completed unless a test says so.</summary>
        public TaskCompletionSource<int> Late { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ConcurrentQueue<PodEndpoint> Hung { get; } = new();

        public ValueTask<int> Call(PodEndpoint endpoint, CancellationToken cancellationToken)
        {
            int call = Interlocked.Increment(ref _calls) - 1;
            Started.Release();
            if (Array.IndexOf(hungCalls, call) < 0)
            {
                return new ValueTask<int>(call);
            }

            Hung.Enqueue(endpoint);
            return new ValueTask<int>(Late.Task);
        }
    }

    public static TheoryData<string> Modes => ["all", "quorum", "first", "one-at-a-time", "polly-pipeline"];

    /// <summary>Per mode: options, which calls hang, how many calls start before the timeout, and the expected outcome.</summary>
    private static (FanOutOptions Options, int[] Hung, int StartsBefore, int Succeeded, int Skipped, bool GoalMet) Case(string mode, TimeProvider time)
    {
        var options = new FanOutOptions { PerPodTimeout = PerPod };
        switch (mode)
        {
            case "all":
                return (options, [0], 3, 2, 0, false);
            case "quorum":
                // Two of three calls hang: once both are timed out a quorum of 2 is out of reach.
                options.Mode = FanOutMode.Quorum(2);
                return (options, [0, 1], 3, 1, 0, false);
            case "first":
                // The hedge delay is far away: only the timeout can move the fan-out on to the next pod.
                options.Mode = FanOutMode.FirstSuccess(TimeSpan.FromMinutes(1));
                return (options, [0], 1, 1, 1, true);
            case "one-at-a-time":
                options.MaxParallelism = 1;
                return (options, [0], 1, 2, 0, false);
            default:
                options.Pipeline = new ResiliencePipelineBuilder()
                    .AddRetry(new RetryStrategyOptions { MaxRetryAttempts = 3, Delay = TimeSpan.Zero, ShouldHandle = new PredicateBuilder().Handle<InvalidOperationException>() })
                    .Build();
                return (options, [0], 3, 2, 0, false);
        }
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task A_call_that_ignores_its_token_is_timed_out_at_its_per_pod_timeout_and_the_fan_out_completes(string mode)
    {
        var time = new FakeTimeProvider();
        FakeHeadlessService service = FanOutPods.Service(3, time);
        (FanOutOptions options, int[] hung, int startsBefore, int succeeded, int skipped, bool goalMet) = Case(mode, time);
        var script = new Script(hung);

        Task<FanOutResult<int>> fanOut = service.FanOutAsync(script.Call, options);
        for (int i = 0; i < startsBefore; i++)
        {
            Assert.True(await script.Started.WaitAsync(Generous), "a call did not start");
        }

        // The calls that answer at once must have settled (their outcome reported) before the clock moves, or the
        // timeout would rightly catch them too.
        await WaitUntilAsync(() => service.Outcomes.Count >= startsBefore - hung.Length);
        time.Advance(PerPod);
        FanOutResult<int> result = await fanOut.WaitAsync(Generous);

        Assert.Equal(hung.Length, script.Hung.Count);
        foreach (PodEndpoint pod in script.Hung)
        {
            FanOutPodResult<int> timedOut = result.Results.Single(r => r.Endpoint == pod);
            Assert.Equal(FanOutPodStatus.TimedOut, timedOut.Status);
            Assert.Equal(PerPod, timedOut.Latency);
        }

        Assert.Equal(hung.Length, result.Results.Count(r => r.Status == FanOutPodStatus.TimedOut));
        Assert.Equal(succeeded, result.Succeeded);
        Assert.Equal(skipped, result.Results.Count(r => r.Status == FanOutPodStatus.Skipped));
        Assert.Equal(goalMet, result.GoalMet);
        Assert.False(result.DeadlineExceeded);
        Assert.Equal(PerPod, result.Elapsed);

        // A timeout is the pod's failure: passive health hears of it.
        Assert.All(script.Hung, pod => Assert.Contains(service.Outcomes, o => o.Endpoint == pod && !o.Succeeded));
    }

    [Fact]
    public async Task A_call_that_ignores_its_token_and_answers_after_its_timeout_is_timed_out_not_succeeded()
    {
        var time = new FakeTimeProvider();
        FakeHeadlessService service = FanOutPods.Service(1, time);
        var started = new SemaphoreSlim(0);

        Task<FanOutResult<int>> fanOut = service.FanOutAsync(
            async (_, _) =>
            {
                started.Release();
                // Task.Delay(3000) without the token, on the fan-out's clock.
                await Task.Delay(TimeSpan.FromSeconds(3), time, CancellationToken.None);
                return 1;
            },
            new FanOutOptions { PerPodTimeout = PerPod });
        Assert.True(await started.WaitAsync(Generous));
        time.Advance(PerPod);
        time.Advance(TimeSpan.FromSeconds(3));
        FanOutResult<int> result = await fanOut.WaitAsync(Generous);

        FanOutPodResult<int> pod = Assert.Single(result.Results);
        Assert.Equal(FanOutPodStatus.TimedOut, pod.Status);
        Assert.Equal(PerPod, pod.Latency);
        Assert.Equal(0, result.Succeeded);
        Assert.Equal(1, result.Failed);
        Assert.False(result.GoalMet);
    }

    /// <summary>A clock whose timers never fire: the time moves, the per-pod timer is (arbitrarily) late.</summary>
    private sealed class LateTimerClock : TimeProvider
    {
        private readonly FakeTimeProvider _timers = new();
        private long _now;

        public void Advance(TimeSpan delta) => Interlocked.Add(ref _now, delta.Ticks);

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Volatile.Read(ref _now);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
            _timers.CreateTimer(callback, state, dueTime, period);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_call_that_finishes_at_or_after_its_timeout_is_timed_out_even_when_the_timer_is_late(bool throws)
    {
        var clock = new LateTimerClock();
        FakeHeadlessService service = FanOutPods.Service(1, clock);

        FanOutResult<int> result = await service.FanOutAsync(
            (_, _) =>
            {
                // The call takes exactly its timeout; the timer has not fired (it never does on this clock).
                clock.Advance(PerPod);
                return throws ? throw new InvalidOperationException("failed at its timeout") : new ValueTask<int>(7);
            },
            new FanOutOptions { PerPodTimeout = PerPod }).WaitAsync(Generous);

        FanOutPodResult<int> pod = Assert.Single(result.Results);
        Assert.Equal(FanOutPodStatus.TimedOut, pod.Status);
        Assert.Equal(PerPod, pod.Latency);
        Assert.Equal(0, pod.Value);
        Assert.Equal(throws, pod.Exception is InvalidOperationException);
        Assert.False(result.GoalMet);
        Assert.False(Assert.Single(service.Outcomes).Succeeded);
    }

    [Fact]
    public async Task The_deadline_counts_from_the_call_including_the_wait_for_the_first_resolution()
    {
        var time = new FakeTimeProvider();
        var resolver = new ScriptedResolver(ResolutionResult.Success(FanOutPods.Loopback(2), TimeSpan.FromSeconds(5)));
        resolver.Block();
        await using var service = new HeadlessService(TestPods.ServiceName, resolver, new HeadlessServiceOptions(), time);
        var started = new SemaphoreSlim(0);
        var never = new TaskCompletionSource<int>();

        Task<FanOutResult<int>> fanOut = service.FanOutAsync(
            (_, _) =>
            {
                started.Release();
                return new ValueTask<int>(never.Task);
            },
            new FanOutOptions { Deadline = TimeSpan.FromMilliseconds(500) });
        await resolver.Entered.WaitAsync(Generous);
        time.Advance(TimeSpan.FromMilliseconds(300));
        resolver.Release();
        for (int i = 0; i < 2; i++)
        {
            Assert.True(await started.WaitAsync(Generous), "a call did not start");
        }

        time.Advance(TimeSpan.FromMilliseconds(200));
        FanOutResult<int> result = await fanOut.WaitAsync(Generous);

        Assert.True(result.DeadlineExceeded);
        Assert.Equal(TimeSpan.FromMilliseconds(500), result.Elapsed);
        Assert.All(result.Results, r => Assert.Equal(FanOutPodStatus.TimedOut, r.Status));
        Assert.All(result.Results, r => Assert.Equal(TimeSpan.FromMilliseconds(200), r.Latency));
    }

    [Fact]
    public async Task A_deadline_that_passes_before_the_first_resolution_returns_a_deadline_result_without_calling_anyone()
    {
        var time = new FakeTimeProvider();
        var resolver = new ScriptedResolver(ResolutionResult.Success(FanOutPods.Loopback(2), TimeSpan.FromSeconds(5)));
        resolver.Block();
        await using var service = new HeadlessService(TestPods.ServiceName, resolver, new HeadlessServiceOptions(), time);
        int calls = 0;

        Task<FanOutResult<int>> fanOut = service.FanOutAsync(
            (_, _) => new ValueTask<int>(Interlocked.Increment(ref calls)),
            new FanOutOptions { Mode = FanOutMode.Quorum(1), Deadline = TimeSpan.FromMilliseconds(500) });
        await resolver.Entered.WaitAsync(Generous);
        time.Advance(TimeSpan.FromMilliseconds(499));
        Assert.False(fanOut.IsCompleted, "the fan-out ended before its deadline");
        time.Advance(TimeSpan.FromMilliseconds(1));
        FanOutResult<int> result = await fanOut.WaitAsync(Generous);

        Assert.True(result.DeadlineExceeded);
        Assert.False(result.GoalMet);
        Assert.False(result.Snapshot.IsInitialized);
        Assert.Empty(result.Results);
        Assert.Equal(TimeSpan.FromMilliseconds(500), result.Elapsed);
        Assert.Equal((FanOutModeKind.Quorum, 1), (result.Mode.Kind, result.Mode.QuorumCount));
        Assert.Equal("web.default.svc.cluster.local quorum:1: 0 succeeded, 0 failed, goal not met (deadline exceeded)", result.ToString());
        resolver.Release();
        Assert.Equal(0, Volatile.Read(ref calls));
    }

    [Theory]
    [InlineData(500)]
    [InlineData(600)]
    public async Task A_deadline_that_passed_while_waiting_for_the_first_resolution_calls_no_pod_even_when_its_timer_is_late(int waitedMs)
    {
        // The clock moves to (or past) the deadline while the first resolution is blocked, and no timer fires: the
        // resolution comes back with the deadline already gone.
        var clock = new LateTimerClock();
        var resolver = new ScriptedResolver(ResolutionResult.Success(FanOutPods.Loopback(2), TimeSpan.FromSeconds(5)));
        resolver.Block();
        await using var service = new HeadlessService(TestPods.ServiceName, resolver, new HeadlessServiceOptions(), clock);
        int calls = 0;
        var never = new TaskCompletionSource<int>();

        Task<FanOutResult<int>> fanOut = service.FanOutAsync(
            (_, _) =>
            {
                Interlocked.Increment(ref calls);
                return new ValueTask<int>(never.Task);
            },
            new FanOutOptions { Mode = FanOutMode.Quorum(1), Deadline = TimeSpan.FromMilliseconds(500) });
        await resolver.Entered.WaitAsync(Generous);
        clock.Advance(TimeSpan.FromMilliseconds(waitedMs));
        resolver.Release();
        FanOutResult<int> result = await fanOut.WaitAsync(Generous);

        Assert.True(result.DeadlineExceeded);
        Assert.False(result.GoalMet);
        Assert.Equal(2, result.Snapshot.Count);
        Assert.Equal(result.Snapshot.Endpoints, result.Results.Select(r => r.Endpoint));
        Assert.All(result.Results, r => Assert.Equal(FanOutPodStatus.Skipped, r.Status));
        Assert.Equal(TimeSpan.FromMilliseconds(waitedMs), result.Elapsed);
        Assert.Equal((FanOutModeKind.Quorum, 1), (result.Mode.Kind, result.Mode.QuorumCount));
        Assert.Equal(0, Volatile.Read(ref calls));
    }

    [Fact]
    public async Task A_call_abandoned_at_its_timeout_that_fails_later_is_observed()
    {
        const string Marker = "late failure of an abandoned fan-out call";
        var time = new FakeTimeProvider();
        FakeHeadlessService service = FanOutPods.Service(1, time);
        var late = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new SemaphoreSlim(0);
        WeakReference? abandoned = null;

        Task<FanOutResult<int>> fanOut = service.FanOutAsync(
            (_, _) =>
            {
                Task<int> call = FailLaterAsync(late.Task, Marker);
                abandoned = new WeakReference(call);
                started.Release();
                return new ValueTask<int>(call);
            },
            new FanOutOptions { PerPodTimeout = PerPod });
        Assert.True(await started.WaitAsync(Generous));
        time.Advance(PerPod);
        FanOutResult<int> result = await fanOut.WaitAsync(Generous);
        Assert.Equal(FanOutPodStatus.TimedOut, Assert.Single(result.Results).Status);

        late.SetResult();
        await WaitUntilAsync(() => IsCompleted(abandoned!));

        // Collect the failed call: had nobody observed its exception, the finalizer would raise UnobservedTaskException
        // here (and the guard would end the test run).
        for (int i = 0; i < 20 && abandoned!.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            await Task.Yield();
        }

        Assert.False(abandoned!.IsAlive, "the abandoned call was never collected, so its observation could not be checked");
        Assert.DoesNotContain(UnobservedTaskExceptionGuard.Exceptions, e => e.ToString().Contains(Marker, StringComparison.Ordinal));
    }

    private static async Task<int> FailLaterAsync(Task late, string message)
    {
        await late;
        throw new InvalidOperationException(message);
    }

    // Not async, so the task is never held by a state machine that outlives the check.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool IsCompleted(WeakReference reference) => reference.Target is not Task task || task.IsCompleted;

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < Generous, "condition not reached");
            await Task.Yield();
        }
    }
}
