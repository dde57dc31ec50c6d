namespace Headless.Discovery;

/// <summary>
/// One call to a picked pod: while it is held the pod counts one more outstanding call (for least-outstanding
/// selection); when it ends the outcome and latency go to passive health through
/// <see cref="IHeadlessService.ReportOutcome"/>. A struct: acquiring one allocates nothing.
/// </summary>
/// <remarks>
/// <para>
/// Use it with <c>using var lease = selector.Lease();</c> and call <see cref="Complete"/> when the
/// outcome is known; it ends the lease, and the later <see cref="Dispose"/> does nothing. A plain
/// <see cref="Dispose"/> without an outcome releases the outstanding count and reports <b>nothing</b>: the lease cannot
/// tell success from an exception unwinding through the <c>using</c>, and guessing either way would mislead outlier detection.
/// </para>
/// <para>
/// Not thread-safe, and must not be copied: end it once, through the variable it was acquired into (pass it by
/// <see langword="ref"/>). A <see langword="default"/> lease has no endpoint and ending it does nothing.
/// </para>
/// </remarks>
public struct EndpointLease : IDisposable
{
    private readonly IHeadlessService? _service;
    private readonly LeaseTracker? _tracker;
    private readonly TimeProvider? _timeProvider;
    private readonly long _startedAt;
    private bool _ended;

    internal EndpointLease(IHeadlessService service, PodEndpoint endpoint, LeaseTracker? tracker)
    {
        _service = service;
        Endpoint = endpoint;
        _tracker = tracker;
        _timeProvider = service.TimeProvider;
        _startedAt = _timeProvider.GetTimestamp();
        _ended = false;
    }

    /// <summary>
    /// The one way selectors hand out a lease: counts it on <paramref name="tracker"/>, then starts its clock.
    /// </summary>
    /// <returns>
    /// <see langword="false"/> (and a <see langword="default"/> lease) when <paramref name="endpoint"/> is <see langword="null"/>
    /// or its tracker has no room left (a per-pod lease limit reached since the choice).
    /// </returns>
    internal static bool TryStart(IHeadlessService service, PodEndpoint? endpoint, LeaseTracker? tracker, out EndpointLease lease)
    {
        if (endpoint is null || (tracker is not null && !tracker.TryAcquire()))
        {
            lease = default;
            return false;
        }

        lease = new EndpointLease(service, endpoint, tracker);
        return true;
    }

    /// <summary>The leased pod; <see langword="null"/> only for a <see langword="default"/> lease.</summary>
    public PodEndpoint Endpoint { get; }

    /// <summary>Time since the lease was acquired, on the service's <see cref="IHeadlessService.TimeProvider"/>.</summary>
    public readonly TimeSpan Elapsed => _timeProvider?.GetElapsedTime(_startedAt) ?? TimeSpan.Zero;

    /// <summary>
    /// Ends the lease and reports the call's outcome to passive health, with the time since the lease was acquired as
    /// the latency — like <see cref="IHeadlessService.ReportOutcome"/>, whose <c>succeeded</c> it takes.
    /// </summary>
    /// <param name="succeeded">Whether the call succeeded (a connection error, timeout or 5xx is a failure).</param>
    public void Complete(bool succeeded) => End(succeeded);

    /// <summary>Ends the lease without reporting an outcome, unless <see cref="Complete"/> already did.</summary>
    public void Dispose() => End(null);

    // succeeded: the outcome to report, or null to report nothing.
    private void End(bool? succeeded)
    {
        if (_ended || _service is null)
        {
            return;
        }

        _ended = true;
        if (succeeded is bool ok)
        {
            TimeSpan latency = _timeProvider!.GetElapsedTime(_startedAt);
            try
            {
                _service.ReportOutcome(Endpoint, ok, latency);
            }
            finally
            {
                _tracker?.Release(Endpoint, ok ? 1 : -1);
            }
        }
        else
        {
            _tracker?.Release(Endpoint, 0);
        }
    }

    /// <summary>The endpoint and whether the lease has ended.</summary>
    public override readonly string ToString() => Endpoint is null ? "(no endpoint)" : $"{Endpoint}{(_ended ? " (ended)" : string.Empty)}";
}
