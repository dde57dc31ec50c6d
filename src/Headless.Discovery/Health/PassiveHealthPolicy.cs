namespace Headless.Discovery;

/// <summary>
/// The arithmetic of outlier ejection: how long, and whether one more ejection is allowed. Pure and thread-safe. Counts
/// are never negative; with no pods nothing can be ejected, because the product below is then 0.
/// </summary>
internal static class PassiveHealthPolicy
{
    /// <summary><paramref name="baseTime"/> × <paramref name="timesEjected"/> (at least once), capped at <paramref name="maxTime"/>.</summary>
    public static TimeSpan EjectionDuration(TimeSpan baseTime, TimeSpan maxTime, int timesEjected) =>
        TimeSpan.FromTicks((long)Math.Min((double)baseTime.Ticks * Math.Max(1, timesEjected), maxTime.Ticks));

    /// <summary>Whether ejecting one more pod keeps the ejected share at or below <paramref name="maxPercent"/>.</summary>
    public static bool CanEject(int alreadyEjected, int total, double maxPercent) =>
        (alreadyEjected + 1) * 100.0 <= maxPercent * total;
}
