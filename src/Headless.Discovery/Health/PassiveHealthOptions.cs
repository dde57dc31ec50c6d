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
/// <see cref="MaxEjectionTime"/>.
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

    /// <summary>Copies every option into <paramref name="target"/>.</summary>
    internal void CopyTo(PassiveHealthOptions target)
    {
        target.Enabled = Enabled;
        target.ConsecutiveFailures = ConsecutiveFailures;
        target.BaseEjectionTime = BaseEjectionTime;
        target.MaxEjectionTime = MaxEjectionTime;
        target.MaxEjectionPercent = MaxEjectionPercent;
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
    }
}
