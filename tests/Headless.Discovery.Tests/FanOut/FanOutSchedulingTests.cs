using Headless.Discovery.Testing;
using System.Collections.Concurrent;
using System.Threading.Channels;
using Headless.Discovery;
using Headless.Discovery.Tests.Selection;
using Microsoft.Extensions.Time.Testing;

namespace Headless.Discovery.Tests.FanOut;

/// <summary>
/// Which pods a fan-out calls, in which order and when: snapshot order for <see cref="FanOutModeKind.All"/> and
/// <see cref="FanOutModeKind.Quorum"/>, a random first pod for hedged reads, hedges on the fan-out's clock within the
/// parallelism bound, and the tokens the calls get.
/// </summary>
public sealed class FanOutSchedulingTests
{

    [Theory]
    [InlineData("all", 5)]
    [InlineData("quorum", 2)]
    public async Task All_and_quorum_call_the_pods_in_snapshot_order(string mode, int called)
    {
        FakeHeadlessService service = FanOutPods.Service(5);
        for (int run = 0; run < 20; run++)
        {
            var order = new ConcurrentQueue<PodEndpoint>();
            FanOutResult<int> result = await service.FanOutAsync(
                (endpoint, _) =>
                {
                    order.Enqueue(endpoint);
                    return new ValueTask<int>(1);
                },
                new FanOutOptions { Mode = mode == "all" ? FanOutMode.All : FanOutMode.Quorum(2), MaxParallelism = 1 }).WaitAsync(Generous);

            Assert.Equal(service.Current.Endpoints.Take(called), order);
            Assert.Equal(
                Enumerable.Repeat(FanOutPodStatus.Succeeded, called).Concat(Enumerable.Repeat(FanOutPodStatus.Skipped, 5 - called)),
                result.Results.Select(r => r.Status));
        }
    }

    [Fact]
    public async Task Hedged_reads_start_at_a_random_pod_and_go_on_in_snapshot_order()
    {
        // Every call fails, so each fan-out calls all four pods one after the other. Over 200 fan-outs each pod is the
        // first one at least once unless the start is not random (a uniform start misses a pod with probability 4e-25).
        FakeHeadlessService service = FanOutPods.Service(4);
        PodEndpoint[] pods = [.. service.Current.Endpoints];
        var firsts = new HashSet<PodEndpoint>();
        for (int run = 0; run < 200; run++)
        {
            var order = new ConcurrentQueue<PodEndpoint>();
            FanOutResult<int> result = await service.FanOutAsync<int>(
                (endpoint, _) =>
                {
                    order.Enqueue(endpoint);
                    throw new InvalidOperationException("down");
                },
                new FanOutOptions { Mode = FanOutMode.FirstSuccess(Timeout.InfiniteTimeSpan) }).WaitAsync(Generous);

            PodEndpoint[] called = [.. order];
            int start = Array.IndexOf(pods, called[0]);
            Assert.Equal(Enumerable.Range(0, 4).Select(k => pods[(start + k) % 4]), called);
            Assert.Equal(pods, result.Results.Select(r => r.Endpoint));
            Assert.All(result.Results, r => Assert.Equal(FanOutPodStatus.Failed, r.Status));
            firsts.Add(called[0]);
        }

        Assert.Equal(4, firsts.Count);
    }

    [Fact]
    public async Task Hedged_reads_draw_their_starting_pod_from_the_given_random_source()
    {
        // The same seed gives the same starting pods, one draw per fan-out, in the order a Random of that seed gives them.
        FakeHeadlessService service = FanOutPods.Service(5);
        PodEndpoint[] pods = [.. service.Current.Endpoints];
        for (int seed = 0; seed < 20; seed++)
        {
            var options = new FanOutOptions { Mode = FanOutMode.FirstSuccess(Timeout.InfiniteTimeSpan), Random = new Random(seed) };
            var expected = new Random(seed);
            for (int run = 0; run < 5; run++)
            {
                var order = new ConcurrentQueue<PodEndpoint>();
                FanOutResult<int> result = await service.FanOutAsync(
                    (endpoint, _) =>
                    {
                        order.Enqueue(endpoint);
                        return new ValueTask<int>(1);
                    },
                    options).WaitAsync(Generous);

                Assert.Equal([pods[expected.Next(pods.Length)]], order);
                Assert.True(result.GoalMet);
            }
        }
    }

    /// <summary>Calls the test settles by hand, in the order they started; each honours its token.</summary>
    private sealed class ManualCalls
    {
        private readonly Channel<ManualCall> _started = Channel.CreateUnbounded<ManualCall>();

        public ConcurrentQueue<ManualCall> All { get; } = new();

        public ValueTask<int> Invoke(PodEndpoint endpoint, CancellationToken cancellationToken)
        {
            var call = new ManualCall(endpoint, cancellationToken);
            All.Enqueue(call);
            _started.Writer.TryWrite(call);
            return new ValueTask<int>(call.Completion.Task);
        }

        public async Task<ManualCall> NextAsync() => await _started.Reader.ReadAsync().AsTask().WaitAsync(Generous);
    }

    private sealed class ManualCall
    {
        public ManualCall(PodEndpoint endpoint, CancellationToken token)
        {
            Endpoint = endpoint;
            Token = token;
            token.Register(() => Completion.TrySetCanceled(token));
        }

        public PodEndpoint Endpoint { get; }

        public CancellationToken Token { get; }

        public TaskCompletionSource<int> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    [Fact]
    public async Task Hedged_reads_add_a_pod_per_hedge_delay_within_the_parallelism_and_at_once_after_a_failure()
    {
        var time = new FakeTimeProvider();
        FakeHeadlessService service = FanOutPods.Service(4, time);
        var calls = new ManualCalls();
        Task<FanOutResult<int>> fanOut = service.FanOutAsync(
            calls.Invoke,
            new FanOutOptions { Mode = FanOutMode.FirstSuccess(TimeSpan.FromMilliseconds(100)), MaxParallelism = 2 });

        ManualCall first = await calls.NextAsync();                       // t = 0
        time.Advance(TimeSpan.FromMilliseconds(100));
        ManualCall second = await calls.NextAsync();                      // t = 100: the hedge delay passed
        time.Advance(TimeSpan.FromMilliseconds(100));                     // t = 200: both slots taken, no third call
        first.Completion.SetException(new InvalidOperationException("first down"));
        ManualCall third = await calls.NextAsync();                       // t = 200: the failure freed a slot
        time.Advance(TimeSpan.FromMilliseconds(50));
        second.Completion.SetException(new InvalidOperationException("second down"));
        ManualCall fourth = await calls.NextAsync();                      // t = 250: the delay starts over
        time.Advance(TimeSpan.FromMilliseconds(50));
        fourth.Completion.SetException(new InvalidOperationException("fourth down"));  // t = 300: every pod started, nothing to add
        await WaitUntilAsync(() => service.Outcomes.Count == 3);
        time.Advance(TimeSpan.FromMilliseconds(100));                     // t = 400: the delay passes with nothing left to start
        third.Completion.SetResult(3);
        FanOutResult<int> result = await fanOut.WaitAsync(Generous);

        Assert.Equal(4, calls.All.Count);
        Assert.Equal(4, calls.All.Select(c => c.Endpoint).Distinct().Count());
        FanOutPodResult<int> Of(ManualCall call) => result.Results.Single(r => r.Endpoint == call.Endpoint);
        Assert.Equal((FanOutPodStatus.Failed, TimeSpan.FromMilliseconds(200)), (Of(first).Status, Of(first).Latency));
        Assert.Equal((FanOutPodStatus.Failed, TimeSpan.FromMilliseconds(150)), (Of(second).Status, Of(second).Latency));
        Assert.Equal((FanOutPodStatus.Succeeded, TimeSpan.FromMilliseconds(200), 3), (Of(third).Status, Of(third).Latency, Of(third).Value));
        Assert.Equal((FanOutPodStatus.Failed, TimeSpan.FromMilliseconds(50)), (Of(fourth).Status, Of(fourth).Latency));
        Assert.Equal((1, 3, true, false), (result.Succeeded, result.Failed, result.GoalMet, result.DeadlineExceeded));
        Assert.Equal(TimeSpan.FromMilliseconds(400), result.Elapsed);
        Assert.DoesNotContain(calls.All, c => c.Token.IsCancellationRequested);
    }

    [Fact]
    public async Task After_a_failure_the_hedge_delay_starts_over_for_the_call_just_added()
    {
        var time = new FakeTimeProvider();
        FakeHeadlessService service = FanOutPods.Service(3, time);
        var calls = new ManualCalls();
        Task<FanOutResult<int>> fanOut = service.FanOutAsync(
            calls.Invoke,
            new FanOutOptions { Mode = FanOutMode.FirstSuccess(TimeSpan.FromMilliseconds(100)), MaxParallelism = 3 });

        ManualCall first = await calls.NextAsync();                       // t = 0
        time.Advance(TimeSpan.FromMilliseconds(50));
        first.Completion.SetException(new InvalidOperationException("down"));
        ManualCall second = await calls.NextAsync();                      // t = 50: the failure hedges at once
        time.Advance(TimeSpan.FromMilliseconds(99));                      // t = 149: the first delay would have passed at 100
        time.Advance(TimeSpan.FromMilliseconds(1));
        ManualCall third = await calls.NextAsync();                       // t = 150: 100 ms after the second call
        third.Completion.SetResult(3);
        FanOutResult<int> result = await fanOut.WaitAsync(Generous);

        FanOutPodResult<int> Of(ManualCall call) => result.Results.Single(r => r.Endpoint == call.Endpoint);
        Assert.Equal((FanOutPodStatus.Failed, TimeSpan.FromMilliseconds(50)), (Of(first).Status, Of(first).Latency));
        Assert.Equal((FanOutPodStatus.Cancelled, TimeSpan.FromMilliseconds(100)), (Of(second).Status, Of(second).Latency));
        Assert.Equal((FanOutPodStatus.Succeeded, TimeSpan.Zero), (Of(third).Status, Of(third).Latency));
        Assert.Equal(TimeSpan.FromMilliseconds(150), result.Elapsed);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < Generous, "condition not reached");
            await Task.Yield();
        }
    }

    [Fact]
    public async Task A_hedge_delay_that_passes_with_every_pod_started_adds_nothing()
    {
        var time = new FakeTimeProvider();
        FakeHeadlessService service = FanOutPods.Service(2, time);
        var calls = new ManualCalls();
        Task<FanOutResult<int>> fanOut = service.FanOutAsync(
            calls.Invoke,
            new FanOutOptions { Mode = FanOutMode.FirstSuccess(TimeSpan.FromMilliseconds(100)), MaxParallelism = 3 });

        ManualCall first = await calls.NextAsync();
        time.Advance(TimeSpan.FromMilliseconds(100));
        ManualCall second = await calls.NextAsync();
        time.Advance(TimeSpan.FromMilliseconds(300));
        second.Completion.SetResult(2);
        FanOutResult<int> result = await fanOut.WaitAsync(Generous);

        Assert.Equal(2, calls.All.Count);
        Assert.Equal([2], result.Results.Where(r => r.Succeeded).Select(r => r.Value));
        FanOutPodResult<int> cancelled = result.Results.Single(r => r.Endpoint == first.Endpoint);
        Assert.Equal((FanOutPodStatus.Cancelled, TimeSpan.FromMilliseconds(400)), (cancelled.Status, cancelled.Latency));
        Assert.True(first.Token.IsCancellationRequested);
    }

    [Fact]
    public async Task A_fan_out_that_gives_up_on_no_call_cancels_no_token()
    {
        FakeHeadlessService service = FanOutPods.Service(3);
        foreach (TimeSpan? perPod in new TimeSpan?[] { null, TimeSpan.FromMinutes(1) })
        {
            var tokens = new ConcurrentQueue<CancellationToken>();
            FanOutResult<int> result = await service.FanOutAsync(
                (_, token) =>
                {
                    tokens.Enqueue(token);
                    return new ValueTask<int>(1);
                },
                new FanOutOptions { PerPodTimeout = perPod }).WaitAsync(Generous);

            Assert.True(result.GoalMet);
            Assert.Equal(3, tokens.Count);
            Assert.DoesNotContain(tokens, t => t.IsCancellationRequested);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_call_given_up_on_has_its_token_cancelled_and_only_with_a_per_pod_timeout_do_the_finished_calls_keep_theirs(bool perPodTimeout)
    {
        FakeHeadlessService service = FanOutPods.Service(2);
        var calls = new ManualCalls();
        Task<FanOutResult<int>> fanOut = service.FanOutAsync(
            calls.Invoke,
            new FanOutOptions { Mode = FanOutMode.Quorum(1), PerPodTimeout = perPodTimeout ? TimeSpan.FromMinutes(1) : null });
        ManualCall a = await calls.NextAsync(), b = await calls.NextAsync();
        a.Completion.SetResult(1);
        FanOutResult<int> result = await fanOut.WaitAsync(Generous);

        Assert.Equal(FanOutPodStatus.Succeeded, result.Results.Single(r => r.Endpoint == a.Endpoint).Status);
        Assert.Equal(FanOutPodStatus.Cancelled, result.Results.Single(r => r.Endpoint == b.Endpoint).Status);
        Assert.True(b.Token.IsCancellationRequested);

        // Without a per-pod timeout the calls share one token (documented on FanOutAsync).
        Assert.Equal(!perPodTimeout, a.Token.IsCancellationRequested);
    }
}
