using System.Collections.Immutable;

namespace Headless.Discovery;

/// <summary>What happened to one pod in a fan-out.</summary>
public enum FanOutPodStatus
{
    /// <summary>The call returned a value.</summary>
    Succeeded = 0,

    /// <summary>The call threw (see <see cref="FanOutPodResult{T}.Exception"/>).</summary>
    Failed,

    /// <summary>The call exceeded <see cref="FanOutOptions.PerPodTimeout"/> or was in flight when <see cref="FanOutOptions.Deadline"/> passed.</summary>
    TimedOut,

    /// <summary>The pod was not called: excluded as unhealthy, or the fan-out completed (or hit its deadline) first.</summary>
    Skipped,

    /// <summary>The call was in flight when the fan-out completed (quorum reached or out of reach, first success) or the caller cancelled.</summary>
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

    /// <summary>What the call threw (failed, timed out or cancelled calls), or <see langword="null"/>.</summary>
    public Exception? Exception { get; }

    /// <summary>From the start of the call to its end (or to when the fan-out gave up on it); zero when skipped.</summary>
    public TimeSpan Latency { get; }

    /// <summary><see langword="true"/> when <see cref="Status"/> is <see cref="FanOutPodStatus.Succeeded"/>.</summary>
    public bool IsSuccess => Status == FanOutPodStatus.Succeeded;

    /// <summary>The pod, status and latency.</summary>
    public override string ToString() => $"{Endpoint}: {Status} in {Latency.TotalMilliseconds:0.#} ms{(Exception is null ? string.Empty : " (" + Exception.Message + ")")}";
}

/// <summary>The outcome of a fan-out: one result per pod of the snapshot, and whether the mode's goal was met. Immutable.</summary>
/// <typeparam name="T">The operation's result type.</typeparam>
public sealed class FanOutResult<T>
{
    internal FanOutResult(EndpointSet snapshot, FanOutMode mode, ImmutableArray<FanOutPodResult<T>> results, bool goalMet, bool deadlineExceeded, TimeSpan elapsed)
    {
        Snapshot = snapshot;
        Mode = mode;
        Results = results;
        GoalMet = goalMet;
        DeadlineExceeded = deadlineExceeded;
        Elapsed = elapsed;
        foreach (FanOutPodResult<T> result in results)
        {
            Succeeded += result.Status == FanOutPodStatus.Succeeded ? 1 : 0;
            Failed += result.Status is FanOutPodStatus.Failed or FanOutPodStatus.TimedOut ? 1 : 0;
        }
    }

    /// <summary>The snapshot whose pods were called.</summary>
    public EndpointSet Snapshot { get; }

    /// <summary>The completion rule that was followed.</summary>
    public FanOutMode Mode { get; }

    /// <summary>One result per pod of <see cref="Snapshot"/>, in snapshot order (unhealthy pods that were left out appear as skipped).</summary>
    public ImmutableArray<FanOutPodResult<T>> Results { get; }

    /// <summary>How many calls succeeded.</summary>
    public int Succeeded { get; }

    /// <summary>How many calls failed or timed out.</summary>
    public int Failed { get; }

    /// <summary>
    /// Whether the mode's goal was met: every targeted pod succeeded (<see cref="FanOutModeKind.All"/>, and at least one
    /// pod was targeted), at least k succeeded (<see cref="FanOutModeKind.Quorum"/>), or one succeeded
    /// (<see cref="FanOutModeKind.FirstSuccess"/>).
    /// </summary>
    public bool GoalMet { get; }

    /// <summary>Whether <see cref="FanOutOptions.Deadline"/> passed before the fan-out completed.</summary>
    public bool DeadlineExceeded { get; }

    /// <summary>How long the fan-out took.</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>The values of the successful calls, in snapshot order.</summary>
    public IEnumerable<T> Values => Results.Where(r => r.IsSuccess).Select(r => r.Value!);

    /// <summary>A summary line.</summary>
    public override string ToString() => $"{Snapshot.Service} {Mode}: {Succeeded} succeeded, {Failed} failed, goal {(GoalMet ? "met" : "not met")}{(DeadlineExceeded ? " (deadline exceeded)" : string.Empty)}";
}
