namespace Headless.Discovery;

/// <summary>
/// When a pod is probed: its first probe after a uniform delay in [0, InitialJitter] from joining (so pods that join
/// together are not probed in one burst), then every Interval × (1 ± IntervalJitter), start to start.
/// </summary>
/// <remarks>Thread-safe when <paramref name="random01"/> is.</remarks>
/// <param name="options">The probe interval and jitters (a frozen copy).</param>
/// <param name="random01">Uniform samples in [0, 1).</param>
internal sealed class ProbeSchedule(ActiveHealthOptions options, Func<double> random01)
{
    /// <summary>The delay before a new pod's first probe: uniform in [0, InitialJitter].</summary>
    public TimeSpan InitialDelay() =>
        options.InitialJitter <= TimeSpan.Zero ? TimeSpan.Zero : TimeSpan.FromTicks((long)(options.InitialJitter.Ticks * random01()));

    /// <summary>The interval to the next probe: Interval × (1 ± IntervalJitter).</summary>
    public TimeSpan NextInterval() => Jitter.Apply(options.Interval, options.IntervalJitter, random01());
}
