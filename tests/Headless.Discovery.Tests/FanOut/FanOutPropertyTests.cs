using Headless.Discovery.Testing;
using System.Collections.Concurrent;
using System.Diagnostics;
using CsCheck;
using Headless.Discovery.TestSupport;
using Headless.Discovery;
using Headless.Discovery.Tests.Selection;
using Microsoft.Extensions.Time.Testing;

namespace Headless.Discovery.Tests.FanOut;

/// <summary>
/// Fan-out accounting as a property over generated scenarios: pods that succeed, throw, hang ignoring their token,
/// finish after some ticks of the fan-out's clock (honouring their token or not) or block their thread; every mode,
/// parallelism, per-pod timeout and deadline. The scenarios come from a fixed seed, so a failure names the seed of the
/// failing scenario (see tests/Shared/Property.cs).
/// </summary>
public sealed class FanOutPropertyTests
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(10);

    public enum Behaviour
    {
        Succeed,
        Throw,
        HangIgnoringToken,
        TicksHonouringToken,
        TicksIgnoringToken,
        BlockThread,
    }

    /// <param name="Pods">What each pod of the snapshot (in snapshot order) does.</param>
    /// <param name="Ticks">Per pod: how many ticks it takes (or milliseconds it blocks); odd/even picks a synchronous or asynchronous throw.</param>
    /// <param name="HedgeTicks">For FirstSuccess: the hedge delay in ticks, 0 for failures only.</param>
    /// <param name="PerPodTicks">The per-pod timeout in ticks, 0 for none.</param>
    /// <param name="DeadlineTicks">The deadline in ticks, 0 for none.</param>
    internal sealed record Scenario(Behaviour[] Pods, int[] Ticks, FanOutModeKind Kind, int QuorumCount, int HedgeTicks, int MaxParallelism, int PerPodTicks, int DeadlineTicks)
    {
        public FanOutOptions Options() => new()
        {
            Mode = Kind switch
            {
                FanOutModeKind.Quorum => FanOutMode.Quorum(QuorumCount),
                FanOutModeKind.FirstSuccess => FanOutMode.FirstSuccess(HedgeTicks == 0 ? Timeout.InfiniteTimeSpan : HedgeTicks * Tick),
                _ => FanOutMode.All,
            },
            MaxParallelism = MaxParallelism,
            PerPodTimeout = PerPodTicks == 0 ? null : PerPodTicks * Tick,
            Deadline = DeadlineTicks == 0 ? null : DeadlineTicks * Tick,
        };

        public override string ToString() =>
            $"{Kind}{(Kind == FanOutModeKind.Quorum ? $"({QuorumCount})" : string.Empty)} hedge={HedgeTicks} parallelism={MaxParallelism} perPod={PerPodTicks} deadline={DeadlineTicks} " +
            $"pods=[{string.Join(", ", Pods.Select((p, i) => $"{p}:{Ticks[i]}"))}]";
    }

    private static readonly Gen<Scenario> Scenarios =
        from n in Gen.Int[0, 20]
        from pods in Gen.Enum<Behaviour>().Array[n]
        from ticks in Gen.Int[1, 8].Array[n]
        from kind in Gen.Enum<FanOutModeKind>()
        from quorum in Gen.Int[1, 21]
        from hedge in Gen.Int[0, 5]
        from parallelism in Gen.Int[1, 8]
        from perPod in Gen.Int[0, 10]
        from deadline in Gen.Int[0, 40]
        select Bounded(new Scenario(pods, ticks, kind, quorum, hedge, parallelism, perPod, deadline));

    // A call that hangs ignoring its token can only be ended by a timeout: give such scenarios one.
    private static Scenario Bounded(Scenario s) =>
        s.PerPodTicks == 0 && s.DeadlineTicks == 0 && s.Pods.Contains(Behaviour.HangIgnoringToken) ? s with { PerPodTicks = 5 } : s;

    [Fact]
    public Task Fan_out_accounting_holds_over_generated_scenarios() =>
        Property.ForAllAsync(Scenarios, iterations: 150, seed: 0x5EED_FA40_0001UL, CheckAsync);

    private static async Task CheckAsync(Scenario s)
    {
        var time = new FakeTimeProvider();
        FakeHeadlessService service = FanOutPods.Service(s.Pods.Length, time);
        Dictionary<PodEndpoint, int> indexOf = service.Current.Endpoints.Select((e, i) => (e, i)).ToDictionary(x => x.e, x => x.i);
        var hang = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = new ConcurrentDictionary<int, CancellationToken>();
        var calls = new ConcurrentDictionary<PodEndpoint, int>();
        int lastCall = 0;
        int maxRunning = 0;

        ValueTask<int> Operation(PodEndpoint endpoint, CancellationToken cancellationToken)
        {
            int id = Interlocked.Increment(ref lastCall);
            calls.AddOrUpdate(endpoint, 1, (_, c) => c + 1);
            running[id] = cancellationToken;

            // Calls whose token is still live: the ones the fan-out counts against MaxParallelism.
            Max(ref maxRunning, running.Values.Count(t => !t.IsCancellationRequested));
            int i = indexOf[endpoint];
            int ticks = s.Ticks[i];
            switch (s.Pods[i])
            {
                case Behaviour.Succeed:
                    running.TryRemove(id, out _);
                    return new ValueTask<int>(i);
                case Behaviour.Throw:
                    running.TryRemove(id, out _);
                    return ticks % 2 == 0
                        ? throw new InvalidOperationException("synchronous failure")
                        : ValueTask.FromException<int>(new InvalidOperationException("asynchronous failure"));
                case Behaviour.BlockThread:
                    Thread.Sleep(ticks);
                    running.TryRemove(id, out _);
                    return new ValueTask<int>(i);
                case Behaviour.HangIgnoringToken:
                    return Tracked(id, hang.Task);
                case Behaviour.TicksHonouringToken:
                    return Tracked(id, AfterAsync(ticks * Tick, time, i, cancellationToken));
                default:
                    return Tracked(id, AfterAsync(ticks * Tick, time, i, CancellationToken.None));
            }
        }

        async ValueTask<int> Tracked(int id, Task<int> call)
        {
            try
            {
                return await call;
            }
            finally
            {
                running.TryRemove(id, out _);
            }
        }

        FanOutOptions options = s.Options();
        Task<FanOutResult<int>> run = service.FanOutAsync(Operation, options);
        var clock = Stopwatch.StartNew();
        while (!run.IsCompleted)
        {
            Assert.True(clock.Elapsed < Generous, $"the fan-out did not complete within {Generous} (fake time {time.GetUtcNow():HH:mm:ss.fff})");
            time.Advance(Tick);
            await Task.WhenAny(run, Task.Delay(1));
        }

        FanOutResult<int> result = await run;

        // Every hung call now fails: an abandoned call whose failure nobody observes ends the test run (the guard).
        hang.SetException(new InvalidOperationException("a hung call failed after its fan-out completed"));
        _ = hang.Task.Exception; // the source itself (awaited by no one when its pods were skipped) is the test's to observe

        FanOutInvariants.AssertConsistent(result, options, s.Pods.Length);
        Assert.True(maxRunning <= s.MaxParallelism, $"{maxRunning} calls with a live token ran at once, more than MaxParallelism {s.MaxParallelism}");

        foreach (FanOutPodResult<int> pod in result.Results)
        {
            Behaviour behaviour = s.Pods[indexOf[pod.Endpoint]];
            Assert.True(calls.GetValueOrDefault(pod.Endpoint) <= 1, $"{pod.Endpoint} was called {calls.GetValueOrDefault(pod.Endpoint)} times");
            if (pod.Status == FanOutPodStatus.Skipped)
            {
                Assert.False(calls.ContainsKey(pod.Endpoint), $"{pod.Endpoint} is reported skipped but was called");
            }

            switch (behaviour)
            {
                case Behaviour.HangIgnoringToken:
                    Assert.Contains(pod.Status, new[] { FanOutPodStatus.TimedOut, FanOutPodStatus.Cancelled, FanOutPodStatus.Skipped });
                    break;
                case Behaviour.Throw:
                    Assert.NotEqual(FanOutPodStatus.Succeeded, pod.Status);
                    break;
                default:
                    Assert.NotEqual(FanOutPodStatus.Failed, pod.Status);
                    if (pod.Status == FanOutPodStatus.Succeeded)
                    {
                        Assert.Equal(indexOf[pod.Endpoint], pod.Value);
                    }

                    break;
            }

            int reports = service.Outcomes.Count(o => o.Endpoint == pod.Endpoint);
            Assert.True(reports <= 1, $"{pod.Endpoint} reported to passive health {reports} times");
            if (pod.Status is FanOutPodStatus.Skipped or FanOutPodStatus.Cancelled)
            {
                Assert.Equal(0, reports);
            }
        }
    }

    private static async Task<int> AfterAsync(TimeSpan delay, TimeProvider time, int value, CancellationToken cancellationToken)
    {
        await Task.Delay(delay, time, cancellationToken);
        return value;
    }

    private static void Max(ref int target, int value)
    {
        int current;
        while (value > (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}
