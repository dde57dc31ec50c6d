namespace Headless.Discovery;

/// <summary>
/// The outcome of one active probe of a pod: healthy or not, how long it took, and why it failed. A small immutable value
/// built through <see cref="Healthy"/> and <see cref="Unhealthy"/>.
/// </summary>
public readonly struct ProbeResult
{
    private ProbeResult(bool succeeded, TimeSpan latency, string? error, bool isUnreachable = false)
    {
        Succeeded = succeeded;
        Latency = latency;
        Error = error;
        IsUnreachable = isUnreachable;
    }

    /// <summary>Whether the pod passed the probe.</summary>
    public bool Succeeded { get; }

    /// <summary>
    /// How long the probe took. Probes may leave it zero: when a probe runs under a service's health monitor or
    /// <see cref="EndpointProbes.ProbeAsync(IEndpointProbe, PodEndpoint, TimeSpan, TimeProvider?, CancellationToken)"/>
    /// the measured wall time replaces it.
    /// </summary>
    public TimeSpan Latency { get; }

    /// <summary>Why the probe failed (never contains credentials), or <see langword="null"/> when it succeeded.</summary>
    public string? Error { get; }

    /// <summary>The probe failed because the pod refused the connection or could not be reached: it may have left.</summary>
    internal bool IsUnreachable { get; }

    /// <summary>A passed probe.</summary>
    /// <param name="latency">How long it took (optional).</param>
    /// <returns>The result.</returns>
    public static ProbeResult Healthy(TimeSpan latency = default) => new(true, latency, null);

    /// <summary>A failed probe.</summary>
    /// <param name="error">Why it failed: a short message for logs and the CLI.</param>
    /// <param name="latency">How long it took (optional).</param>
    /// <returns>The result.</returns>
    public static ProbeResult Unhealthy(string error, TimeSpan latency = default) =>
        new(false, latency, string.IsNullOrEmpty(error) ? "probe failed" : error);

    /// <summary>This result with <see cref="Latency"/> replaced.</summary>
    /// <param name="latency">The measured latency.</param>
    /// <returns>A copy.</returns>
    internal ProbeResult WithLatency(TimeSpan latency) => new(Succeeded, latency, Error, IsUnreachable);

    /// <summary>A probe that failed with <paramref name="error"/>: described for logs, and marked when it says the pod is unreachable.</summary>
    /// <param name="error">Why the probe failed.</param>
    /// <returns>The result.</returns>
    internal static ProbeResult Failed(Exception error) =>
        new(false, default, EndpointProbes.Describe(error), Unreachable.Is(error));

    /// <summary>A short description.</summary>
    public override string ToString() => Succeeded
        ? $"healthy in {Latency.TotalMilliseconds:0.###} ms"
        : $"unhealthy in {Latency.TotalMilliseconds:0.###} ms: {Error}";
}
