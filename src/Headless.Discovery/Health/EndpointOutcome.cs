namespace Headless.Discovery;

/// <summary>
/// The outcome of one call to a pod, reported by callers (a lease, the HTTP handler, fan-out) to passive health
/// (outlier detection). A small immutable value; reporting it allocates nothing.
/// </summary>
public readonly record struct EndpointOutcome
{
    /// <summary>Creates an outcome.</summary>
    /// <param name="succeeded">Whether the call succeeded.</param>
    /// <param name="latency">How long the call took.</param>
    public EndpointOutcome(bool succeeded, TimeSpan latency)
    {
        Succeeded = succeeded;
        Latency = latency;
    }

    /// <summary>Whether the call succeeded.</summary>
    public bool Succeeded { get; }

    /// <summary>How long the call took.</summary>
    public TimeSpan Latency { get; }

    /// <summary>A successful call.</summary>
    /// <param name="latency">How long it took.</param>
    /// <returns>The outcome.</returns>
    public static EndpointOutcome Success(TimeSpan latency = default) => new(true, latency);

    /// <summary>A failed call (connection error, timeout, 5xx).</summary>
    /// <param name="latency">How long it took.</param>
    /// <returns>The outcome.</returns>
    public static EndpointOutcome Failure(TimeSpan latency = default) => new(false, latency);
}
