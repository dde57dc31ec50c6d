using System.Globalization;
using Polly;

namespace Headless.Discovery;

/// <summary>
/// How <see cref="HeadlessServiceFanOutExtensions.FanOutAsync{T}"/> runs. Validated when a fan-out starts (one
/// <see cref="InvalidOptionsException"/> naming every bad option); not thread-safe to mutate while in use.
/// </summary>
public sealed class FanOutOptions
{
    /// <summary>The default <see cref="MaxParallelism"/>: 32.</summary>
    internal const int DefaultMaxParallelism = 32;

    /// <summary>The completion rule. Default <see cref="FanOutMode.All"/>.</summary>
    public FanOutMode Mode { get; set; } = FanOutMode.All;

    /// <summary>
    /// The most calls in flight at once, 1 or more. Default 32. A call stops
    /// counting when it finishes or when the fan-out gives up on it (its token is cancelled first), so a call that ignores
    /// its token holds its slot no longer than <see cref="PerPodTimeout"/>.
    /// </summary>
    public int MaxParallelism { get; set; } = DefaultMaxParallelism;

    /// <summary>
    /// How long one pod's call may take (including every attempt of <see cref="Pipeline"/>), from when the fan-out starts
    /// it, on the service's <see cref="IHeadlessService.TimeProvider"/>; positive and under 49 days, or <see langword="null"/> (the default) for no per-pod
    /// limit. When it passes the call is reported <see cref="FanOutPodStatus.TimedOut"/>, its token is cancelled and its
    /// slot goes to the next pod, whether or not the operation honours the token; a value or exception that arrives later
    /// is discarded (the exception is observed). A call never counts as succeeded at or after its timeout.
    /// </summary>
    public TimeSpan? PerPodTimeout { get; set; }

    /// <summary>
    /// How long the whole fan-out may take, counted from the call of
    /// <see cref="HeadlessServiceFanOutExtensions.FanOutAsync{T}"/> (the wait for the first resolution included), on
    /// the service's <see cref="IHeadlessService.TimeProvider"/>; positive and under 49 days, or <see langword="null"/> (the default) for no limit. When it
    /// passes before the finished calls decide the goal, calls in flight are cancelled and reported as timed out, pods not
    /// yet called as skipped, and the result (not an exception) is returned with
    /// <see cref="FanOutResult{T}.DeadlineExceeded"/> set; when it passes while the fan-out waits for the first
    /// resolution, no pod is called (every pod is skipped). Calls that finished before the fan-out acted on the deadline
    /// keep their outcome; if those outcomes decide the goal, the result is the same as without a deadline.
    /// </summary>
    public TimeSpan? Deadline { get; set; }

    /// <summary>An optional Polly pipeline around each pod's call (retries, circuit breaker…). Default: none.</summary>
    public ResiliencePipeline? Pipeline { get; set; }

    /// <summary>
    /// Call pods that are unhealthy or ejected too. Default <see langword="false"/>: only <see cref="EndpointSet.Available"/>
    /// pods are called (every pod in panic mode); the others appear in the result as skipped.
    /// </summary>
    public bool IncludeUnhealthy { get; set; }

    /// <summary>
    /// Report each call's outcome (success, failure, or per-pod timeout) to passive health through
    /// <see cref="IHeadlessService.ReportOutcome"/>, once per call. Calls cancelled, cut by the deadline or skipped are never
    /// reported; an exception thrown by <see cref="IHeadlessService.ReportOutcome"/> is ignored. Default <see langword="true"/>.
    /// </summary>
    public bool ReportOutcomes { get; set; } = true;

    /// <summary>
    /// Where <see cref="FanOutMode.FirstSuccess"/> fan-outs draw their starting pod (one draw per fan-out, on the
    /// calling thread; the other modes draw nothing). Default <see langword="null"/>: <see cref="System.Random.Shared"/>,
    /// so that many clients spread over the pods. Set <c>new Random(seed)</c> for a reproducible sequence of starting
    /// pods; such an instance is not thread-safe, so do not share it between fan-outs that start concurrently.
    /// </summary>
    public Random? Random { get; set; }

    /// <summary>Checks every option; throws one <see cref="InvalidOptionsException"/> listing every bad one.</summary>
    internal void Validate()
    {
        var problems = new OptionProblems();
        Collect(problems);
        problems.ThrowIfAny("options");
    }

    /// <summary>Adds every problem of these options to <paramref name="problems"/>.</summary>
    internal void Collect(OptionProblems problems)
    {
        if (Mode is null)
        {
            problems.Add(nameof(Mode), "is required.");
        }

        if (MaxParallelism < 1)
        {
            problems.Add(nameof(MaxParallelism), string.Create(CultureInfo.InvariantCulture, $"{MaxParallelism} must be 1 or more."));
        }

        CheckLimit(problems, PerPodTimeout, nameof(PerPodTimeout));
        CheckLimit(problems, Deadline, nameof(Deadline));
    }

    private static void CheckLimit(OptionProblems problems, TimeSpan? limit, string option)
    {
        if (limit is { } value && (value <= TimeSpan.Zero || value.TotalMilliseconds > uint.MaxValue - 1))
        {
            problems.Add(option, string.Create(CultureInfo.InvariantCulture, $"{value} must be positive and under 49 days, or null for none."));
        }
    }
}
