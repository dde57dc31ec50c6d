using Headless.Discovery.Testing;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Headless.Discovery;
using Headless.Discovery.Tests.Selection;
using Microsoft.Extensions.Time.Testing;

namespace Headless.Discovery.Tests.FanOut;

/// <summary>
/// What a result says, exactly: statuses, values, latencies on the fan-out's clock and the summary lines, for fan-outs
/// scripted one call at a time on a <see cref="FakeTimeProvider"/> (each call moves the clock by its own duration).
/// </summary>
public sealed class FanOutResultTests
{

    /// <summary>Pod i takes <paramref name="milliseconds"/>[i] of the fan-out's clock, then returns 10 + i or throws when its time is negative.</summary>
    private static Func<PodEndpoint, CancellationToken, ValueTask<int>> Scripted(FakeHeadlessService service, FakeTimeProvider time, params double[] milliseconds)
    {
        List<PodEndpoint> pods = [.. service.Current.Endpoints];
        return (endpoint, _) =>
        {
            int i = pods.IndexOf(endpoint);
            time.Advance(TimeSpan.FromMilliseconds(Math.Abs(milliseconds[i])));
            return milliseconds[i] < 0 ? throw new InvalidOperationException($"pod {i} broke") : new ValueTask<int>(10 + i);
        };
    }

    [Fact]
    public async Task Each_pod_result_carries_its_status_value_exception_and_latency_and_prints_them()
    {
        var time = new FakeTimeProvider();
        FakeHeadlessService service = FanOutPods.Service(3, time);

        FanOutResult<int> result = await service.FanOutAsync(
            Scripted(service, time, 12.5, -2, 0),
            new FanOutOptions { MaxParallelism = 1 }).WaitAsync(Generous);

        FanOutPodResult<int> first = result.Results[0], second = result.Results[1], third = result.Results[2];
        Assert.Equal((FanOutPodStatus.Succeeded, 10, null, TimeSpan.FromMilliseconds(12.5)), (first.Status, first.Value, first.Exception, first.Latency));
        Assert.Equal((FanOutPodStatus.Failed, 0, TimeSpan.FromMilliseconds(2)), (second.Status, second.Value, second.Latency));
        Assert.Equal("pod 1 broke", Assert.IsType<InvalidOperationException>(second.Exception).Message);
        Assert.Equal((FanOutPodStatus.Succeeded, 12, TimeSpan.Zero), (third.Status, third.Value, third.Latency));
        Assert.Equal([true, false, true], result.Results.Select(r => r.Succeeded));

        Assert.Equal("127.0.1.1:8080: Succeeded in 12.5 ms", first.ToString());
        Assert.Equal("127.0.1.2:8080: Failed in 2 ms (pod 1 broke)", second.ToString());
        Assert.Equal("127.0.1.3:8080: Succeeded in 0 ms", third.ToString());

        Assert.Equal([10, 12], result.Results.Where(r => r.Succeeded).Select(r => r.Value));
        Assert.Equal((2, 1, false, false), (result.Succeeded, result.Failed, result.GoalMet, result.DeadlineExceeded));
        Assert.Equal(TimeSpan.FromMilliseconds(14.5), result.Elapsed);
        Assert.Same(FanOutMode.All, result.Mode);
        Assert.Same(service.Current, result.Snapshot);
        Assert.Equal("web.default.svc.cluster.local all: 2 succeeded, 1 failed, goal not met", result.ToString());
    }

    [Fact]
    public async Task The_summary_line_says_when_the_goal_was_met()
    {
        var time = new FakeTimeProvider();
        FakeHeadlessService service = FanOutPods.Service(3, time);

        FanOutResult<int> result = await service.FanOutAsync(
            Scripted(service, time, 1, -1, 1),
            new FanOutOptions { Mode = FanOutMode.Quorum(2), MaxParallelism = 1 }).WaitAsync(Generous);

        Assert.True(result.GoalMet);
        Assert.Equal("web.default.svc.cluster.local quorum:2: 2 succeeded, 1 failed, goal met", result.ToString());
    }

    [Fact]
    public async Task The_summary_line_says_when_the_deadline_was_exceeded()
    {
        var time = new FakeTimeProvider();
        FakeHeadlessService service = FanOutPods.Service(2, time);

        // The first call never answers; the deadline passes while it is in flight (the clock moves only once it has
        // started: a call still waiting for a thread would be skipped), so the second is never started.
        var never = new TaskCompletionSource<int>();
        var called = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<FanOutResult<int>> fanOut = service.FanOutAsync(
            (_, _) =>
            {
                called.TrySetResult();
                return new ValueTask<int>(never.Task);
            },
            new FanOutOptions { MaxParallelism = 1, Deadline = TimeSpan.FromMilliseconds(500) });
        await called.Task.WaitAsync(Generous);
        time.Advance(TimeSpan.FromMilliseconds(500));
        FanOutResult<int> result = await fanOut.WaitAsync(Generous);

        Assert.True(result.DeadlineExceeded);
        Assert.Equal([FanOutPodStatus.TimedOut, FanOutPodStatus.Skipped], result.Results.Select(r => r.Status));
        Assert.Equal("127.0.1.1:8080: TimedOut in 500 ms", result.Results[0].ToString());
        Assert.Equal("127.0.1.2:8080: Skipped in 0 ms", result.Results[1].ToString());
        Assert.Equal("web.default.svc.cluster.local all: 0 succeeded, 1 failed, goal not met (deadline exceeded)", result.ToString());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_deadline_that_passes_after_the_finished_calls_decided_the_goal_changes_nothing(bool firstSucceeds)
    {
        // One call at a time; the last call settles, and while it is being reported (before the fan-out has read it)
        // the clock jumps past the deadline, so the fan-out sees the deadline first.
        var time = new FakeTimeProvider();
        FakeHeadlessService service = FanOutPods.Service(2, time);
        PodEndpoint last = service.Current.Endpoints[1];
        service.OutcomeReported += (endpoint, _, _) =>
        {
            if (endpoint == last)
            {
                time.Advance(TimeSpan.FromSeconds(1));
            }
        };
        var options = new FanOutOptions { MaxParallelism = 1, Deadline = TimeSpan.FromMilliseconds(500) };

        FanOutResult<int> result = await service.FanOutAsync(
            (endpoint, _) => endpoint == last || firstSucceeds ? new ValueTask<int>(1) : throw new InvalidOperationException("down"),
            options).WaitAsync(Generous);

        Assert.False(result.DeadlineExceeded);
        Assert.Equal(firstSucceeds, result.GoalMet);
        Assert.Equal(firstSucceeds ? [FanOutPodStatus.Succeeded, FanOutPodStatus.Succeeded] : [FanOutPodStatus.Failed, FanOutPodStatus.Succeeded], result.Results.Select(r => r.Status));
        Assert.Equal((firstSucceeds ? 2 : 1, firstSucceeds ? 0 : 1), (result.Succeeded, result.Failed));
        Assert.Equal(TimeSpan.FromSeconds(1), result.Elapsed);
        FanOutInvariants.AssertConsistent(result, options, targets: 2);
    }

    [Fact]
    public async Task Pods_left_out_as_unhealthy_are_skipped_in_their_place_in_the_snapshot()
    {
        FakeHeadlessService service = FanOutPods.Service(0);
        PodEndpoint[] pods = FanOutPods.Loopback(5);
        service.Publish(pods.Select((p, i) => (p, i is 0 or 2 or 4 ? EndpointHealth.Unhealthy : EndpointHealth.Healthy, false)));
        var called = new ConcurrentQueue<PodEndpoint>();
        ValueTask<int> Fail(PodEndpoint endpoint, CancellationToken cancellationToken)
        {
            called.Enqueue(endpoint);
            throw new InvalidOperationException("down");
        }

        foreach (FanOutMode mode in new[] { FanOutMode.All, FanOutMode.Quorum(1), FanOutMode.FirstSuccess(Timeout.InfiniteTimeSpan) })
        {
            called.Clear();
            FanOutResult<int> healthy = await service.FanOutAsync(Fail, new FanOutOptions { Mode = mode }).WaitAsync(Generous);
            Assert.Equal(pods, healthy.Results.Select(r => r.Endpoint));
            Assert.Equal(
                [FanOutPodStatus.Skipped, FanOutPodStatus.Failed, FanOutPodStatus.Skipped, FanOutPodStatus.Failed, FanOutPodStatus.Skipped],
                healthy.Results.Select(r => r.Status));
            Assert.Equal([pods[1], pods[3]], called.Order());

            called.Clear();
            FanOutResult<int> everyone = await service.FanOutAsync(Fail, new FanOutOptions { Mode = mode, IncludeUnhealthy = true }).WaitAsync(Generous);
            Assert.All(everyone.Results, r => Assert.Equal(FanOutPodStatus.Failed, r.Status));
            Assert.Equal(pods, called.Order());
        }

        // In panic mode every pod is available, so every pod is called.
        service.Publish(pods.Select(p => (p, EndpointHealth.Unhealthy, false)), panic: true);
        FanOutResult<int> panic = await service.FanOutAsync((_, _) => new ValueTask<int>(1)).WaitAsync(Generous);
        Assert.Equal(5, panic.Succeeded);
        Assert.True(panic.GoalMet);
    }

    [Fact]
    public async Task Outcomes_go_to_passive_health_once_per_call_unless_turned_off_and_a_failing_sink_changes_nothing()
    {
        var time = new FakeTimeProvider();
        FakeHeadlessService pods = FanOutPods.Service(3, time);
        Func<PodEndpoint, CancellationToken, ValueTask<int>> operation = Scripted(pods, time, 4, -2, 0);

        FanOutResult<int> reported = await pods.FanOutAsync(operation, new FanOutOptions { MaxParallelism = 1 }).WaitAsync(Generous);
        Assert.Equal(
            [(pods.Current.Endpoints[0], true, 4.0), (pods.Current.Endpoints[1], false, 2.0), (pods.Current.Endpoints[2], true, 0.0)],
            pods.Outcomes.Select(o => (o.Endpoint, o.Succeeded, o.Latency.TotalMilliseconds)));

        FanOutResult<int> silent = await pods.FanOutAsync(operation, new FanOutOptions { MaxParallelism = 1, ReportOutcomes = false }).WaitAsync(Generous);
        Assert.Equal(3, pods.Outcomes.Count);
        Assert.Equal(reported.Results.Select(r => (r.Status, r.Latency)), silent.Results.Select(r => (r.Status, r.Latency)));

        pods.OutcomeReported += (_, _, _) => throw new InvalidOperationException("sink down");
        FanOutResult<int> unheard = await pods.FanOutAsync(operation, new FanOutOptions { MaxParallelism = 1 }).WaitAsync(Generous);
        Assert.Equal(6, pods.Outcomes.Count);
        Assert.Equal(reported.Results.Select(r => (r.Status, r.Latency)), unheard.Results.Select(r => (r.Status, r.Latency)));
    }
}
