using System.Collections.Concurrent;
using CsCheck;
using Headless.Discovery;
using Headless.Discovery.Testing;
using Headless.Discovery.TestSupport;

namespace Headless.Discovery.Tests.FanOut;

/// <summary>
/// What a fan-out reports for the pods it no longer needs once its goal is decided. A call is queued to the thread pool
/// and may not have a thread yet when the goal is decided: it is then never run, and the pod was not called. The
/// status says which happened: <see cref="FanOutPodStatus.Cancelled"/> only for a call that ran (its operation was
/// invoked and its token cancelled), <see cref="FanOutPodStatus.Skipped"/> for a pod whose operation never ran.
/// </summary>
/// <remarks>
/// The scenarios decide quickly (some pods succeed synchronously) while many calls are queued, so on the real thread
/// pool some queued calls have no thread yet when the goal is decided. Which ones depends on scheduling; the property
/// holds whichever they are.
/// </remarks>
public sealed class FanOutGiveUpPropertyTests
{
    public enum Pod
    {
        /// <summary>Succeeds synchronously.</summary>
        Fast,

        /// <summary>Yields its thread, then succeeds unless its token is cancelled.</summary>
        Yield,

        /// <summary>Waits for its token: only the goal being decided without it ends its call.</summary>
        Wait,
    }

    /// <param name="Quorum">For Quorum: k, at most the number of pods that succeed, so only the mode's rule ends these fan-outs.</param>
    /// <param name="MaxParallelism">More than the waiting pods, so they never hold every slot.</param>
    internal sealed record Scenario(Pod[] Pods, bool FirstSuccess, int Quorum, int MaxParallelism, int Seed)
    {
        public FanOutOptions Options() => new()
        {
            Mode = FirstSuccess ? FanOutMode.FirstSuccess(TimeSpan.FromMilliseconds(1)) : FanOutMode.Quorum(Quorum),
            MaxParallelism = MaxParallelism,
            Random = new Random(Seed),
        };

        public override string ToString() =>
            $"{(FirstSuccess ? "FirstSuccess(1 ms)" : $"Quorum({Quorum})")} parallelism={MaxParallelism} seed={Seed} " +
            $"pods=[{string.Join(string.Empty, Pods.Select(p => p.ToString()[0]))}]";
    }

    private static readonly Gen<Scenario> Scenarios =
        from n in Gen.Int[2, 48]
        from pods in Gen.Enum<Pod>().Array[n]
        from firstSuccess in Gen.Bool
        from quorum in Gen.Int[1, n]
        from parallelism in Gen.Int[1, n]
        from seed in Gen.Int
        select Reachable(new Scenario(pods, firstSuccess, quorum, parallelism, seed));

    // At least one pod succeeds, the quorum is no larger than the pods that succeed, and the waiting pods leave a slot
    // free: the goal is always met.
    private static Scenario Reachable(Scenario s)
    {
        Pod[] pods = s.Pods.Any(p => p != Pod.Wait) ? s.Pods : [Pod.Fast, .. s.Pods.Skip(1)];
        int succeeding = pods.Count(p => p != Pod.Wait);
        return s with { Pods = pods, Quorum = Math.Min(s.Quorum, succeeding), MaxParallelism = Math.Max(s.MaxParallelism, pods.Length - succeeding + 1) };
    }

    [Fact]
    public Task A_pod_reported_cancelled_was_called_and_one_never_called_is_reported_skipped() =>
        Property.ForAllAsync(Scenarios, iterations: 200, seed: 0x5EED_FA40_0002UL, CheckAsync);

    private static async Task CheckAsync(Scenario s)
    {
        FakeHeadlessService service = FanOutPods.Service(s.Pods.Length);
        Dictionary<PodEndpoint, int> indexOf = service.Current.Endpoints.Select((e, i) => (e, i)).ToDictionary(x => x.e, x => x.i);
        var called = new ConcurrentDictionary<PodEndpoint, bool>();
        Dictionary<PodEndpoint, TaskCompletionSource> invoked = Signals(service), cancelled = Signals(service);

        ValueTask<int> Operation(PodEndpoint endpoint, CancellationToken cancellationToken)
        {
            Assert.True(called.TryAdd(endpoint, true), $"{endpoint} was called twice");
            invoked[endpoint].TrySetResult();
            return s.Pods[indexOf[endpoint]] switch
            {
                Pod.Fast => ValueTask.FromResult(200),
                Pod.Yield => YieldAsync(cancellationToken),
                _ => WaitAsync(cancelled[endpoint], cancellationToken),
            };
        }

        FanOutResult<int> result = await service.FanOutAsync(Operation, s.Options()).WaitAsync(Generous);

        Assert.True(result.GoalMet, FanOutInvariants.Describe(result));
        FanOutInvariants.AssertConsistent(result, s.Options(), s.Pods.Length);
        foreach (FanOutPodResult<int> pod in result.Results)
        {
            switch (pod.Status)
            {
                case FanOutPodStatus.Succeeded:
                    Assert.True(called.ContainsKey(pod.Endpoint), $"{pod} succeeded without a call");
                    break;
                case FanOutPodStatus.Cancelled:
                    // The call may still be on its way into the operation. Once there, a waiting pod sees its token
                    // cancelled; the others may have returned their value after the goal was decided without them.
                    await invoked[pod.Endpoint].Task.WaitAsync(Generous);
                    if (s.Pods[indexOf[pod.Endpoint]] == Pod.Wait)
                    {
                        await cancelled[pod.Endpoint].Task.WaitAsync(Generous);
                    }

                    break;
                case FanOutPodStatus.Skipped:
                    Assert.False(called.ContainsKey(pod.Endpoint), $"{pod} is reported skipped but was called");
                    break;
                default:
                    Assert.Fail($"{pod}: no pod fails or times out in these scenarios");
                    break;
            }
        }
    }

    private static async ValueTask<int> YieldAsync(CancellationToken cancellationToken)
    {
        await Task.Yield();
        cancellationToken.ThrowIfCancellationRequested();
        return 200;
    }

    private static async ValueTask<int> WaitAsync(TaskCompletionSource cancelled, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
            return 0;
        }
        finally
        {
            cancelled.TrySetResult();
        }
    }

    private static Dictionary<PodEndpoint, TaskCompletionSource> Signals(FakeHeadlessService service) =>
        service.Current.Endpoints.ToDictionary(e => e, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}
