namespace Headless.Discovery;

/// <summary>
/// The runtime health of one pod, keyed by its identity and kept across refreshes while the pod stays a member.
/// </summary>
/// <remarks>
/// One owner, one rule: the owning <see cref="HealthTracker"/> reads and changes it only under its lock. The passive
/// failure streak, counted lock-free on the caller's outcome path, is a separate object (<see cref="FailureStreak"/>).
/// </remarks>
internal sealed class EndpointHealthState(PodEndpoint endpoint)
{
    private EndpointStatus? _status;
    private EndpointHealth _health;
    private int _consecutiveSuccesses;
    private int _consecutiveFailures;
    private TimeSpan? _lastLatency;
    private string? _lastError;
    private DateTimeOffset? _lastProbedAt;
    private DateTimeOffset? _lastTransitionAt;
    private DateTimeOffset? _ejectedUntil;
    private DateTimeOffset? _lastEjectionEndedAt;
    private ITimer? _ejectionTimer;

    public PodEndpoint Endpoint { get; } = endpoint;

    /// <summary>Consecutive failed calls reported by callers; lock-free.</summary>
    public FailureStreak PassiveFailures { get; } = new();

    public EndpointHealth Health => _health;

    public int ConsecutiveSuccesses => _consecutiveSuccesses;

    public int ConsecutiveFailures => _consecutiveFailures;

    public string? LastError => _lastError;

    public bool IsEjected { get; private set; }

    /// <summary>How many ejections in a row counted toward the next ejection's length.</summary>
    public int TimesEjected { get; private set; }

    /// <summary>Nothing known: the pod's shared unknown status stands for it.</summary>
    private bool IsBlank => _health == EndpointHealth.Unknown && !IsEjected && _lastProbedAt is null;

    /// <summary>
    /// Records one probe result with hysteresis (a pod's first probe decides its health).
    /// </summary>
    /// <returns>The health before, when the result moved it; otherwise <see langword="null"/>.</returns>
    public EndpointHealth? RecordProbe(ProbeResult result, DateTimeOffset now, int healthyThreshold, int unhealthyThreshold)
    {
        _lastProbedAt = now;
        _lastLatency = result.Latency;
        _lastError = result.Succeeded ? null : result.Error;
        _status = null;
        EndpointHealth from = _health;
        if (result.Succeeded)
        {
            _consecutiveFailures = 0;
            _consecutiveSuccesses++;
            if (from == EndpointHealth.Unknown || (from == EndpointHealth.Unhealthy && _consecutiveSuccesses >= healthyThreshold))
            {
                return Transition(EndpointHealth.Healthy, now);
            }
        }
        else
        {
            _consecutiveSuccesses = 0;
            _consecutiveFailures++;
            if (from == EndpointHealth.Unknown || (from == EndpointHealth.Healthy && _consecutiveFailures >= unhealthyThreshold))
            {
                return Transition(EndpointHealth.Unhealthy, now);
            }
        }

        return null;
    }

    private EndpointHealth Transition(EndpointHealth to, DateTimeOffset now)
    {
        EndpointHealth from = _health;
        _health = to;
        _lastTransitionAt = now;
        return from;
    }

    /// <summary>Ejects the pod (the caller arms <paramref name="timer"/> to end it) and returns how long the ejection lasts.</summary>
    public TimeSpan Eject(DateTimeOffset now, TimeSpan baseTime, TimeSpan maxTime, Func<TimeSpan, ITimer> timer)
    {
        // A pod that stayed in long enough after its last ejection starts over at the base time.
        if (_lastEjectionEndedAt is { } ended && now - ended >= maxTime)
        {
            TimesEjected = 0;
        }

        TimesEjected++;
        TimeSpan duration = PassiveHealthPolicy.EjectionDuration(baseTime, maxTime, TimesEjected);
        IsEjected = true;
        _ejectedUntil = now + duration;
        _status = null;
        PassiveFailures.Reset();
        _ejectionTimer = timer(duration);
        return duration;
    }

    /// <summary>Ends an ejection.</summary>
    public void Return(DateTimeOffset now)
    {
        IsEjected = false;
        _ejectedUntil = null;
        _status = null;
        _lastEjectionEndedAt = now;
        StopEjectionTimer();
    }

    /// <summary>Disposes the ejection timer, if any (the pod left, or the tracker is disposed).</summary>
    public void StopEjectionTimer()
    {
        _ejectionTimer?.Dispose();
        _ejectionTimer = null;
    }

    /// <summary>
    /// The status for a snapshot. Reused while nothing changed, so republishing a large set after one pod's transition
    /// allocates only for the pods probed since.
    /// </summary>
    public EndpointStatus ToStatus() => _status ??= IsBlank
        ? Endpoint.UnknownStatus
        : new EndpointStatus(Endpoint, _health, IsEjected, _ejectedUntil, _lastError, _lastLatency, _consecutiveFailures, _lastTransitionAt);
}
