namespace Headless.Discovery;

/// <summary>
/// Passive health (outlier ejection) of a <see cref="HeadlessService"/> (the
/// <see cref="HeadlessServiceOptions.PassiveHealth"/> section), fed by <see cref="IHeadlessService.ReportOutcome"/>.
/// On by default. Every option documents its default; validation names every bad one.
/// </summary>
/// <remarks>
/// After <see cref="ConsecutiveFailures"/> failed calls in a row a pod is ejected (not selectable) for
/// <see cref="BaseEjectionTime"/> × the number of times it has been ejected, at most <see cref="MaxEjectionTime"/>; but
/// never while that would eject more than <see cref="MaxEjectionPercent"/> of the pods. It returns when its time is up,
/// or earlier when an active probe passes. The ejection count starts over once a pod has stayed un-ejected for
/// <see cref="MaxEjectionTime"/>. Beside that streak, every <see cref="Interval"/> the outcomes of that interval are judged
/// by success rate (on by default, as in Envoy) and failure percentage (off by default); the pods they name are ejected
/// the same way, within <see cref="MaxEjectionPercent"/>.
/// </remarks>
public sealed class PassiveHealthOptions
{
    /// <summary>Whether reported outcomes can eject pods. Default: <see langword="true"/>.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Failed calls in a row that eject a pod, 1 to 1000. Default: 5.</summary>
    public int ConsecutiveFailures { get; set; } = 5;

    /// <summary>How long the first ejection lasts; the n-th lasts n times as long. Default: 30 seconds. 100 ms (the floor) to one day.</summary>
    public TimeSpan BaseEjectionTime { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The longest ejection. Default: 300 seconds. At least <see cref="BaseEjectionTime"/>, at most one day.</summary>
    public TimeSpan MaxEjectionTime { get; set; } = TimeSpan.FromSeconds(300);

    /// <summary>The largest share of the pods ejected at once, in percent, 0 to 100. Default: 50.</summary>
    public double MaxEjectionPercent { get; set; } = 50;

    /// <summary>
    /// How often reported outcomes are judged by success rate and failure percentage (the counts start over each time).
    /// 100 ms (the floor) to one day. Default: 10 seconds (Envoy's <c>outlier_detection.interval</c>).
    /// </summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Success-rate ejection (Envoy <c>success_rate_stdev_factor</c> / 1000, gRPC A50): over one <see cref="Interval"/>,
    /// a pod whose success rate is below mean − this factor × the standard deviation of the pods' success rates is
    /// ejected. 0.1 to 100; <see langword="null"/> turns the rule off. Default: 1.9.
    /// </summary>
    public double? SuccessRateStdevFactor { get; set; } = 1.9;

    /// <summary>Pods with at least <see cref="SuccessRateRequestVolume"/> calls needed before the success-rate rule applies, 1 to 100 000. Default: 5.</summary>
    public int SuccessRateMinimumHosts { get; set; } = 5;

    /// <summary>Calls a pod needs in one <see cref="Interval"/> to count for the success-rate rule, 1 to 1 000 000 000. Default: 100.</summary>
    public int SuccessRateRequestVolume { get; set; } = 100;

    /// <summary>
    /// Failure-percentage ejection (Envoy <c>failure_percentage_threshold</c>, gRPC A50): over one <see cref="Interval"/>,
    /// a pod whose failed calls are more than this percent of its calls is ejected. 0 to 100; <see langword="null"/> (the
    /// default, as in Envoy) turns the rule off; gRPC's suggested value is 85.
    /// </summary>
    public double? FailurePercentageThreshold { get; set; }

    /// <summary>Pods with at least <see cref="FailurePercentageRequestVolume"/> calls needed before the failure-percentage rule applies, 1 to 100 000. Default: 5.</summary>
    public int FailurePercentageMinimumHosts { get; set; } = 5;

    /// <summary>Calls a pod needs in one <see cref="Interval"/> to count for the failure-percentage rule, 1 to 1 000 000 000. Default: 50.</summary>
    public int FailurePercentageRequestVolume { get; set; } = 50;

    /// <summary>Whether a statistical rule is on (outcomes are then counted per pod and judged every <see cref="Interval"/>).</summary>
    internal bool JudgesIntervals => Enabled && (SuccessRateStdevFactor is not null || FailurePercentageThreshold is not null);

    /// <summary>Copies every option into <paramref name="target"/>.</summary>
    internal void CopyTo(PassiveHealthOptions target)
    {
        target.Enabled = Enabled;
        target.ConsecutiveFailures = ConsecutiveFailures;
        target.BaseEjectionTime = BaseEjectionTime;
        target.MaxEjectionTime = MaxEjectionTime;
        target.MaxEjectionPercent = MaxEjectionPercent;
        target.Interval = Interval;
        target.SuccessRateStdevFactor = SuccessRateStdevFactor;
        target.SuccessRateMinimumHosts = SuccessRateMinimumHosts;
        target.SuccessRateRequestVolume = SuccessRateRequestVolume;
        target.FailurePercentageThreshold = FailurePercentageThreshold;
        target.FailurePercentageMinimumHosts = FailurePercentageMinimumHosts;
        target.FailurePercentageRequestVolume = FailurePercentageRequestVolume;
    }

    /// <summary>Adds every problem of these options to <paramref name="problems"/>.</summary>
    internal void Collect(OptionProblems problems)
    {
        problems.Range(ConsecutiveFailures, 1, 1000, nameof(ConsecutiveFailures));
        problems.Duration(BaseEjectionTime, OptionProblems.IntervalFloor, TimeSpan.FromDays(1), nameof(BaseEjectionTime));
        if (MaxEjectionTime < BaseEjectionTime || MaxEjectionTime > TimeSpan.FromDays(1))
        {
            problems.Add(nameof(MaxEjectionTime), $"{MaxEjectionTime} must be at least {nameof(BaseEjectionTime)} ({BaseEjectionTime}) and at most one day.");
        }

        problems.Range(MaxEjectionPercent, 0, 100, nameof(MaxEjectionPercent));
        problems.Duration(Interval, OptionProblems.IntervalFloor, TimeSpan.FromDays(1), nameof(Interval));
        if (SuccessRateStdevFactor is { } factor)
        {
            problems.Range(factor, 0.1, 100, nameof(SuccessRateStdevFactor));
        }

        problems.Range(SuccessRateMinimumHosts, 1, 100_000, nameof(SuccessRateMinimumHosts));
        problems.Range(SuccessRateRequestVolume, 1, 1_000_000_000, nameof(SuccessRateRequestVolume));
        if (FailurePercentageThreshold is { } percent)
        {
            problems.Range(percent, 0, 100, nameof(FailurePercentageThreshold));
        }

        problems.Range(FailurePercentageMinimumHosts, 1, 100_000, nameof(FailurePercentageMinimumHosts));
        problems.Range(FailurePercentageRequestVolume, 1, 1_000_000_000, nameof(FailurePercentageRequestVolume));
    }
}
