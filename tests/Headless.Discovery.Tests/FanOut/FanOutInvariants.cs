using Headless.Discovery;

namespace Headless.Discovery.Tests.FanOut;

/// <summary>What every fan-out result must satisfy, whatever its pods did: the promises of <see cref="FanOutResult{T}"/>.</summary>
internal static class FanOutInvariants
{
    /// <summary>Asserts that <paramref name="result"/> agrees with itself and with the mode's rule.</summary>
    /// <param name="result">The result.</param>
    /// <param name="options">The options it ran with.</param>
    /// <param name="targets">How many pods were targeted (every pod of the snapshot in these tests).</param>
    public static void AssertConsistent<T>(FanOutResult<T> result, FanOutOptions options, int targets)
    {
        // Exactly one result per pod of the snapshot, in snapshot order.
        Assert.Equal(result.Snapshot.Endpoints, result.Results.Select(r => r.Endpoint));

        int succeeded = result.Results.Count(r => r.Status == FanOutPodStatus.Succeeded);
        int failed = result.Results.Count(r => r.Status is FanOutPodStatus.Failed or FanOutPodStatus.TimedOut);
        Assert.Equal(succeeded, result.Succeeded);
        Assert.Equal(failed, result.Failed);
        Assert.Equal(succeeded, result.Results.Count(r => r.Succeeded));

        FanOutMode mode = options.Mode;
        bool goal = mode.Kind switch
        {
            FanOutModeKind.Quorum => succeeded >= mode.QuorumCount,
            FanOutModeKind.FirstSuccess => succeeded >= 1,
            _ => targets > 0 && succeeded == targets,
        };
        Assert.True(goal == result.GoalMet, $"GoalMet is {result.GoalMet} but the per-pod results say {goal}: {Describe(result)}");

        // Decided: the results settle the mode's goal one way or the other.
        bool decided = mode.Kind switch
        {
            FanOutModeKind.Quorum => succeeded >= mode.QuorumCount || targets - failed < mode.QuorumCount,
            FanOutModeKind.FirstSuccess => succeeded >= 1 || failed == targets,
            _ => succeeded + failed == targets,
        };
        if (result.DeadlineExceeded)
        {
            Assert.NotNull(options.Deadline);
            Assert.False(result.GoalMet, $"the deadline was exceeded but the goal met: {Describe(result)}");
            Assert.True(result.Elapsed >= options.Deadline!.Value, $"deadline exceeded after only {result.Elapsed}: {Describe(result)}");
            Assert.DoesNotContain(result.Results, r => r.Status == FanOutPodStatus.Cancelled);
        }
        else
        {
            Assert.True(decided, $"neither the deadline nor the mode's rule ended the fan-out: {Describe(result)}");
        }

        if (mode.Kind == FanOutModeKind.All && !result.DeadlineExceeded)
        {
            Assert.DoesNotContain(result.Results, r => r.Status is FanOutPodStatus.Cancelled or FanOutPodStatus.Skipped);
        }

        foreach (FanOutPodResult<T> pod in result.Results)
        {
            Assert.Equal(pod.Status == FanOutPodStatus.Succeeded, pod.Succeeded);
            if (pod.Status == FanOutPodStatus.Succeeded && options.PerPodTimeout is { } timeout)
            {
                Assert.True(pod.Latency < timeout, $"{pod} succeeded after its per-pod timeout of {timeout}");
            }

            if (pod.Status == FanOutPodStatus.Skipped)
            {
                Assert.Equal(TimeSpan.Zero, pod.Latency);
            }

            if (pod.Status == FanOutPodStatus.Failed)
            {
                Assert.NotNull(pod.Exception);
            }
        }
    }

    public static string Describe<T>(FanOutResult<T> result) =>
        $"{result} [{string.Join("; ", result.Results.Select(r => $"{r.Endpoint.Key} {r.Status} {r.Latency.TotalMilliseconds:0.#}ms"))}] elapsed {result.Elapsed.TotalMilliseconds:0.#}ms";
}
