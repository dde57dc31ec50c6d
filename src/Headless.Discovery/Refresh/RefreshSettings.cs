namespace Headless.Discovery;

/// <summary>
/// What the refresh room needs to know, validated and frozen by the facade (the room never reads the service options).
/// </summary>
/// <param name="MinRefreshInterval">The shortest delay between two rounds.</param>
/// <param name="MaxRefreshInterval">The longest delay between two rounds.</param>
/// <param name="RefreshJitter">The relative spread of a TTL-driven delay, in [0, 1).</param>
/// <param name="FailureBackoffBase">The delay after the first failed round, before jitter.</param>
/// <param name="FailureBackoffMax">The cap of the failure backoff, before jitter.</param>
/// <param name="MaxStaleness">How long last known good endpoints are kept while rounds fail; infinite by default.</param>
/// <param name="EmptyAnswerConfirmations">Consecutive empty answers needed before the set is emptied.</param>
internal sealed record RefreshSettings(
    TimeSpan MinRefreshInterval,
    TimeSpan MaxRefreshInterval,
    double RefreshJitter,
    TimeSpan FailureBackoffBase,
    TimeSpan FailureBackoffMax,
    TimeSpan MaxStaleness,
    int EmptyAnswerConfirmations);
