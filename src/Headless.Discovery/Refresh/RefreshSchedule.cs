namespace Headless.Discovery;

/// <summary>
/// When the next refresh round runs: after an answer, its TTL with jitter clamped to [Min, Max]; after a failure, the
/// shared <see cref="Backoff"/>; while an empty answer waits for confirmation, the minimum interval with jitter.
/// </summary>
/// <remarks>Thread-safe when <paramref name="random01"/> is.</remarks>
/// <param name="settings">The refresh bounds, jitter and backoff.</param>
/// <param name="random01">Uniform samples in [0, 1) for jitter.</param>
internal sealed class RefreshSchedule(RefreshSettings settings, Func<double> random01)
{
    /// <summary>The least time between two rounds that an early-refresh request may cause.</summary>
    public TimeSpan MinInterval => settings.MinRefreshInterval;

    /// <summary>The answer's TTL after jitter, clamped to [Min, Max].</summary>
    public TimeSpan AfterAnswer(TimeSpan ttl)
    {
        TimeSpan jittered = Jitter.Apply(ttl, settings.RefreshJitter, random01());
        if (jittered < settings.MinRefreshInterval)
        {
            return settings.MinRefreshInterval;
        }

        return jittered > settings.MaxRefreshInterval ? settings.MaxRefreshInterval : jittered;
    }

    /// <summary>The backoff after <paramref name="consecutiveFailures"/> failed rounds in a row.</summary>
    public TimeSpan AfterFailure(int consecutiveFailures) =>
        Backoff.Delay(consecutiveFailures, settings.FailureBackoffBase, settings.FailureBackoffMax, random01());

    /// <summary>An unconfirmed empty answer is asked again soon: the minimum interval, with jitter.</summary>
    public TimeSpan ToConfirmEmptyAnswer() =>
        Jitter.Apply(settings.MinRefreshInterval, settings.RefreshJitter, random01());
}
