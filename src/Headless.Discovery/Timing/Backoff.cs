namespace Headless.Discovery;

/// <summary>
/// The one backoff of the library (refresh after a failed round, reconnect after a failed connect): exponential,
/// Base × 2^(n-1) capped at Max, with "equal jitter" — a uniform pick in [d/2, d], so retries spread out but never
/// come back sooner than half the nominal delay.
/// </summary>
internal static class Backoff
{
    /// <summary>The delay before attempt <paramref name="attempt"/> + 1.</summary>
    /// <param name="attempt">How many attempts failed in a row; 1 or more (smaller values count as 1).</param>
    /// <param name="baseDelay">The delay after the first failure, before jitter.</param>
    /// <param name="maxDelay">The cap, before jitter.</param>
    /// <param name="random01">A uniform sample in [0, 1).</param>
    /// <returns>At least one tick.</returns>
    public static TimeSpan Delay(int attempt, TimeSpan baseDelay, TimeSpan maxDelay, double random01)
    {
        double exponent = Math.Min(Math.Max(attempt, 1) - 1, 30);
        double ticks = Math.Min(maxDelay.Ticks, baseDelay.Ticks * Math.Pow(2, exponent));
        double jittered = (ticks / 2) + (random01 * ticks / 2);
        return TimeSpan.FromTicks(Math.Max(1, (long)jittered));
    }
}
