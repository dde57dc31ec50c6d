namespace Headless.Discovery;

/// <summary>The one jitter formula of the library: a delay × (1 ± spread), uniform.</summary>
internal static class Jitter
{
    /// <summary>Spreads <paramref name="delay"/> uniformly over [delay × (1 − spread), delay × (1 + spread)].</summary>
    /// <param name="delay">The nominal delay; zero or negative is returned as is.</param>
    /// <param name="spread">The relative spread in [0, 1); zero or less returns <paramref name="delay"/>.</param>
    /// <param name="random01">A uniform sample in [0, 1).</param>
    public static TimeSpan Apply(TimeSpan delay, double spread, double random01)
    {
        if (spread <= 0 || delay <= TimeSpan.Zero)
        {
            return delay;
        }

        double factor = 1 + (((random01 * 2) - 1) * spread);
        return TimeSpan.FromTicks((long)(delay.Ticks * factor));
    }
}
