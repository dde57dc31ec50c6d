namespace Headless.Discovery;

/// <summary>
/// The mutable runtime health of one pod, keyed by its identity and kept across refreshes while the pod stays a member.
/// Fields are guarded by the owning <see cref="HealthTracker"/>'s lock, except <see cref="PassiveFailures"/> (interlocked)
/// and <see cref="IsEjected"/> (volatile reads on the outcome path).
/// </summary>
internal sealed class EndpointHealthState(PodEndpoint endpoint)
{
    public PodEndpoint Endpoint { get; } = endpoint;

    public EndpointHealth Health;
    public int ConsecutiveSuccesses;
    public int ConsecutiveFailures;
    public TimeSpan? LastLatency;
    public string? LastError;
    public DateTimeOffset? LastProbedAt;
    public DateTimeOffset? LastTransitionAt;

    public int PassiveFailures;
    public volatile bool IsEjected;
    public DateTimeOffset? EjectedUntil;
    public int TimesEjected;
    public DateTimeOffset? LastEjectionEndedAt;
    public ITimer? EjectionTimer;

    /// <summary>Set once the pod left the set; late probe results and timers for it are ignored.</summary>
    public bool Removed;

    /// <summary>Cancels this pod's probe loop.</summary>
    public CancellationTokenSource? ProbeCts;

    /// <summary>Nothing known yet: publish the pod's shared unknown status.</summary>
    public bool IsBlank => Health == EndpointHealth.Unknown && !IsEjected && LastProbedAt is null;

    /// <summary>The status built from the current fields; cached until <see cref="Changed"/> is called.</summary>
    private EndpointStatus? _status;

    /// <summary>Call after mutating any published field, so the next <see cref="ToStatus"/> rebuilds.</summary>
    public void Changed() => _status = null;

    /// <summary>
    /// The status for a snapshot. Reused across publications while nothing changed, so republishing a large set after
    /// one pod's transition allocates only for the pods probed since.
    /// </summary>
    public EndpointStatus ToStatus() => _status ??= IsBlank
        ? Endpoint.UnknownStatus
        : new EndpointStatus(Endpoint, Health, IsEjected, EjectedUntil, LastError, LastLatency, ConsecutiveFailures, LastTransitionAt);
}
