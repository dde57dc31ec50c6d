namespace Headless.Discovery;

/// <summary>
/// Slow start (Envoy's <c>slow_start_config</c>, Istio's <c>warmupDurationSecs</c>): a pod that joins the available
/// pods after the selector's first snapshot with pods (scaled up, replaced, back from unhealthy or ejected) gets a share
/// of picks that ramps from <see cref="MinWeightPercent"/> to full over <see cref="Window"/>, so that a cold cache, JIT
/// or connection pool is not handed a full share at once. Pods present when the selector first sees the service do not
/// ramp. Applies to <see cref="EndpointSelectors.RoundRobin"/>, <see cref="EndpointSelectors.Random"/> and
/// <see cref="EndpointSelectors.LeastRequest"/>.
/// </summary>
/// <remarks>
/// A ramping pod's weight is <c>max(MinWeightPercent / 100, (elapsed / Window)^(1 / Aggression))</c>, against 1 for
/// the others. The ramp starts at the first pick that sees the pod available (a busy client sees it as soon as it is
/// published), on the service's <see cref="IHeadlessService.TimeProvider"/>. Options are read once, when the selector
/// is created.
/// </remarks>
public sealed class SlowStartOptions
{
    /// <summary>How long a joining pod ramps to a full share. 100 ms (the floor) to one hour. Default: 30 seconds.</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The ramp's shape (Envoy's <c>aggression</c>): 1 is linear; larger values give the new pod more of its share
    /// early, smaller values less. 0.1 to 10. Default: 1.
    /// </summary>
    public double Aggression { get; set; } = 1;

    /// <summary>The weight a pod starts at, in percent of a full share (Envoy's <c>min_weight_percent</c>). 1 to 100. Default: 10.</summary>
    public double MinWeightPercent { get; set; } = 10;

    /// <summary>Adds every problem of these options to <paramref name="problems"/>.</summary>
    internal void Collect(OptionProblems problems)
    {
        problems.Duration(Window, OptionProblems.IntervalFloor, TimeSpan.FromHours(1), nameof(Window));
        problems.Range(Aggression, 0.1, 10, nameof(Aggression));
        problems.Range(MinWeightPercent, 1, 100, nameof(MinWeightPercent), " (percent)");
    }
}
