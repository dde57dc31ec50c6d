namespace Headless.Discovery;

/// <summary>The arithmetic of outlier ejection: how long, and whether one more ejection is allowed. Pure and thread-safe.</summary>
internal static class PassiveHealthPolicy
{
    /// <summary><paramref name="baseTime"/> × <paramref name="timesEjected"/>, capped at <paramref name="maxTime"/>.</summary>
    public static TimeSpan EjectionDuration(TimeSpan baseTime, TimeSpan maxTime, int timesEjected)
    {
        double ticks = (double)baseTime.Ticks * Math.Max(1, timesEjected);
        return ticks >= maxTime.Ticks ? maxTime : TimeSpan.FromTicks((long)ticks);
    }

    /// <summary>Whether ejecting one more pod keeps the ejected share at or below <paramref name="maxPercent"/>.</summary>
    public static bool CanEject(int alreadyEjected, int total, double maxPercent) =>
        total > 0 && (alreadyEjected + 1) * 100.0 <= maxPercent * total;

    /// <summary>Envoy's panic rule: fewer than <paramref name="thresholdPercent"/> of the pods available.</summary>
    public static bool IsPanic(int available, int total, double thresholdPercent) =>
        total > 0 && thresholdPercent > 0 && available * 100.0 < thresholdPercent * total;
}
