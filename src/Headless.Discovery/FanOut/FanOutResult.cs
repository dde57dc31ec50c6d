using System.Collections.Immutable;

namespace Headless.Discovery;

/// <summary>What happened to one pod in a fan-out. Each pod's status is decided once and never changes.</summary>
public enum FanOutPodStatus
{
    /// <summary>The call returned a value before its <see cref="FanOutOptions.PerPodTimeout"/> passed (by the fan-out's clock).</summary>
    Succeeded = 0,

    /// <summary>The call threw before its per-pod timeout passed (see <see cref="FanOutPodResult{T}.Exception"/>).</summary>
    Failed,

    /// <summary>
    /// The call's <see cref="FanOutOptions.PerPodTimeout"/> passed before it finished, whether or not the operation
    /// honoured its token (a late value or exception is discarded); or the call was in flight when
    /// <see cref="FanOutOptions.Deadline"/> passed before the goal was decided (<see cref="FanOutResult{T}.DeadlineExceeded"/>).
    /// </summary>
    TimedOut,

    /// <summary>
    /// The pod was not called (its operation never ran): excluded as unhealthy, or the goal was decided (or the deadline
    /// passed) first, including while its call was queued but had no thread yet.
    /// </summary>
    Skipped,

    /// <summary>
    /// The call had its thread when the goal was decided without it (quorum reached or out of reach, first success): it
    /// was cancelled through its token (an operation not yet begun is invoked with that token already cancelled), and
    /// whatever it returns is discarded.
    /// </summary>
    Cancelled,
}

/// <summary>The result of one pod's call in a fan-out. Immutable.</summary>
/// <typeparam name="T">The operation's result type.</typeparam>
public sealed class FanOutPodResult<T>
{
    internal FanOutPodResult(PodEndpoint endpoint, FanOutPodStatus status, T? value, Exception? exception, TimeSpan latency)
    {
        Endpoint = endpoint;
        Status = status;
        Value = value;
        Exception = exception;
        Latency = latency;
    }

    /// <summary>The pod.</summary>
    public PodEndpoint Endpoint { get; }

    /// <summary>What happened.</summary>
    public FanOutPodStatus Status { get; }

    /// <summary>The value when <see cref="Status"/> is <see cref="FanOutPodStatus.Succeeded"/>; otherwise <see langword="default"/>.</summary>
    public T? Value { get; }

    /// <summary>
    /// What the call threw: always set for <see cref="FanOutPodStatus.Failed"/>; for <see cref="FanOutPodStatus.TimedOut"/>
    /// only when the call threw after its timeout had passed but before its timer fired; otherwise <see langword="null"/>.
    /// </summary>
    public Exception? Exception { get; }

    /// <summary>
    /// From the start of the call (when the fan-out queued it) to its end, or to when the fan-out gave up on it (its
    /// timeout, the deadline, or the goal being decided), on the fan-out's clock; zero when skipped.
    /// </summary>
    public TimeSpan Latency { get; }

    /// <summary><see langword="true"/> when <see cref="Status"/> is <see cref="FanOutPodStatus.Succeeded"/>.</summary>
    public bool Succeeded => Status == FanOutPodStatus.Succeeded;

    /// <summary>Whether the pod counts against the goal: <see cref="FanOutPodStatus.Failed"/> or <see cref="FanOutPodStatus.TimedOut"/>.</summary>
    internal bool IsFailure => Status is FanOutPodStatus.Failed or FanOutPodStatus.TimedOut;

    /// <summary>The pod, status and latency.</summary>
    public override string ToString() => $"{Endpoint}: {Status} in {Latency.TotalMilliseconds:0.#} ms{(Exception is null ? string.Empty : " (" + Exception.Message + ")")}";
}

/// <summary>
/// The outcome of a fan-out: one result per pod of the snapshot, and whether the mode's goal was met. Every count and
/// flag is derived from <see cref="Results"/>, so the result never contradicts itself. Immutable.
/// </summary>
/// <typeparam name="T">The operation's result type.</typeparam>
public sealed class FanOutResult<T>
{
    internal FanOutResult(EndpointSet snapshot, FanOutMode mode, ImmutableArray<FanOutPodResult<T>> results, int targets, bool deadlineExceeded, TimeSpan elapsed)
    {
        Snapshot = snapshot;
        Mode = mode;
        Results = results;
        Elapsed = elapsed;
        foreach (FanOutPodResult<T> result in results)
        {
            Succeeded += result.Succeeded ? 1 : 0;
            Failed += result.IsFailure ? 1 : 0;
        }

        GoalMet = mode.Kind switch
        {
            FanOutModeKind.Quorum => Succeeded >= mode.QuorumCount,
            FanOutModeKind.FirstSuccess => Succeeded >= 1,
            _ => targets > 0 && Succeeded == targets,
        };

        // The run sets it only when the settled calls had not decided the goal, so it never comes with GoalMet.
        DeadlineExceeded = deadlineExceeded;
    }

    /// <summary>The deadline passed before any pod was called (while waiting for the first resolution): every pod of <paramref name="snapshot"/> skipped.</summary>
    internal static FanOutResult<T> DeadlineBeforeAnyCall(EndpointSet snapshot, FanOutMode mode, TimeSpan elapsed)
    {
        var results = ImmutableArray.CreateBuilder<FanOutPodResult<T>>(snapshot.Count);
        foreach (PodEndpoint endpoint in snapshot.Endpoints)
        {
            results.Add(new FanOutPodResult<T>(endpoint, FanOutPodStatus.Skipped, default, null, TimeSpan.Zero));
        }

        return new FanOutResult<T>(snapshot, mode, results.MoveToImmutable(), 0, true, elapsed);
    }

    /// <summary>The snapshot whose pods were called.</summary>
    public EndpointSet Snapshot { get; }

    /// <summary>The completion rule that was followed.</summary>
    public FanOutMode Mode { get; }

    /// <summary>One result per pod of <see cref="Snapshot"/>, in snapshot order (unhealthy pods that were left out appear as skipped).</summary>
    public ImmutableArray<FanOutPodResult<T>> Results { get; }

    /// <summary>How many pods in <see cref="Results"/> have <see cref="FanOutPodStatus.Succeeded"/>.</summary>
    public int Succeeded { get; }

    /// <summary>How many pods in <see cref="Results"/> have <see cref="FanOutPodStatus.Failed"/> or <see cref="FanOutPodStatus.TimedOut"/>.</summary>
    public int Failed { get; }

    /// <summary>
    /// Whether the mode's goal was met, computed from <see cref="Results"/>: every targeted pod succeeded
    /// (<see cref="FanOutMode.All"/>, and at least one pod was targeted), at least k succeeded
    /// (<see cref="FanOutMode.Quorum"/>), or at least one succeeded (<see cref="FanOutMode.FirstSuccess"/>).
    /// </summary>
    public bool GoalMet { get; }

    /// <summary>
    /// Whether <see cref="FanOutOptions.Deadline"/> passed before the finished calls decided the goal (met, or out of
    /// reach). Then <see cref="GoalMet"/> is <see langword="false"/>, the calls in flight are
    /// <see cref="FanOutPodStatus.TimedOut"/>, the pods not called yet <see cref="FanOutPodStatus.Skipped"/>, none is
    /// <see cref="FanOutPodStatus.Cancelled"/>, and <see cref="Elapsed"/> is at least the deadline.
    /// </summary>
    public bool DeadlineExceeded { get; }

    /// <summary>How long the fan-out took, on its clock, from the call of <see cref="HeadlessServiceFanOutExtensions.FanOutAsync{T}"/> (including the wait for the first resolution).</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>A summary line.</summary>
    public override string ToString() => $"{Snapshot.Service} {Mode}: {Succeeded} succeeded, {Failed} failed, goal {(GoalMet ? "met" : "not met")}{(DeadlineExceeded ? " (deadline exceeded)" : string.Empty)}";
}
