using Headless.Discovery.Testing;
using Headless.Discovery;
using Headless.Discovery.Tests.Selection;
using Microsoft.Extensions.Time.Testing;

namespace Headless.Discovery.Tests.FanOut;

/// <summary>
/// Operations never run on the caller's thread, and a result never contradicts itself: its counts, goal and deadline flag
/// are derived from the per-pod results.
/// </summary>
public sealed class FanOutAccountingTests
{

    [ThreadStatic]
    private static bool t_insideFanOutCall;

    [Theory]
    [InlineData("all")]
    [InlineData("quorum")]
    [InlineData("first")]
    public async Task FanOutAsync_returns_a_running_task_at_once_while_synchronous_operations_block_elsewhere(string mode)
    {
        FakeHeadlessService service = FanOutPods.Service(3);
        using var gate = new ManualResetEventSlim(false);
        int onCallersThread = 0;
        int blocked = 0;

        ValueTask<int> Blocking(PodEndpoint endpoint, CancellationToken cancellationToken)
        {
            if (t_insideFanOutCall)
            {
                // Blocking here would deadlock the test: the gate opens only after FanOutAsync returns.
                Interlocked.Increment(ref onCallersThread);
                return new ValueTask<int>(1);
            }

            Interlocked.Increment(ref blocked);
            Assert.True(gate.Wait(Generous, CancellationToken.None), "the gate never opened");
            return new ValueTask<int>(1);
        }

        FanOutMode fanOutMode = mode switch
        {
            "quorum" => FanOutMode.Quorum(2),
            "first" => FanOutMode.FirstSuccess(),
            _ => FanOutMode.All,
        };

        t_insideFanOutCall = true;
        Task<FanOutResult<int>> fanOut;
        try
        {
            fanOut = service.FanOutAsync(Blocking, new FanOutOptions { Mode = fanOutMode });
        }
        finally
        {
            t_insideFanOutCall = false;
        }

        Assert.Equal(0, Volatile.Read(ref onCallersThread));
        Assert.False(fanOut.IsCompleted, "FanOutAsync returned a completed task although every operation is still blocked");

        gate.Set();
        FanOutResult<int> result = await fanOut.WaitAsync(Generous);
        Assert.True(result.GoalMet);
        Assert.Equal(result.Results.Count(r => r.Succeeded), result.Succeeded);
        Assert.True(Volatile.Read(ref blocked) >= 1);
    }

    public static TheoryData<string, int> DeadlineCases => new()
    {
        { "all", 32 },
        { "quorum", 32 },
        { "all", 1 },
        { "quorum", 1 },
        { "first", 32 },
    };

    [Theory]
    [MemberData(nameof(DeadlineCases))]
    public async Task Counts_goal_and_deadline_agree_with_the_per_pod_results_when_the_deadline_passes_during_the_calls(string mode, int parallelism)
    {
        // Each call takes 300 ms of the fan-out's clock and the deadline is 500 ms: the deadline passes while calls are
        // finishing, the race in which a stored success used to go uncounted (3 of 3 succeeded, goal not met).
        for (int attempt = 0; attempt < 50; attempt++)
        {
            var time = new FakeTimeProvider();
            FakeHeadlessService service = FanOutPods.Service(3, time);
            var options = new FanOutOptions
            {
                Mode = mode switch
                {
                    "quorum" => FanOutMode.Quorum(2),
                    "first" => FanOutMode.FirstSuccess(TimeSpan.FromMilliseconds(100)),
                    _ => FanOutMode.All,
                },
                MaxParallelism = parallelism,
                Deadline = TimeSpan.FromMilliseconds(500),
            };

            FanOutResult<int> result = await service.FanOutAsync(
                (_, _) =>
                {
                    time.Advance(TimeSpan.FromMilliseconds(300));
                    return new ValueTask<int>(1);
                },
                options).WaitAsync(Generous);

            FanOutInvariants.AssertConsistent(result, options, targets: 3);
        }
    }
}
