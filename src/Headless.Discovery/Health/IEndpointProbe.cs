namespace Headless.Discovery;

/// <summary>
/// One active health check of one pod: TCP or HTTP (<see cref="EndpointProbes.Create"/>), or your code for anything
/// else (<see cref="EndpointProbes.FromDelegate"/>: a database ping, a gRPC health call).
/// </summary>
/// <remarks>
/// Implementations must be thread-safe: the monitor probes many pods at once through one instance. They should honour
/// the cancellation token (it carries the probe timeout) and report a failed check as
/// <see cref="ProbeResult.Unhealthy"/>; an exception thrown by a probe also counts as a failure, with its message as the
/// error.
/// </remarks>
public interface IEndpointProbe
{
    /// <summary>Checks <paramref name="endpoint"/> once.</summary>
    /// <param name="endpoint">The pod to check.</param>
    /// <param name="cancellationToken">Cancelled when the probe times out or the pod is no longer monitored.</param>
    /// <returns>The result.</returns>
    ValueTask<ProbeResult> ProbeAsync(PodEndpoint endpoint, CancellationToken cancellationToken = default);
}
