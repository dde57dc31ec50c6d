namespace Headless.Discovery;

/// <summary>Reporting a failed call with its exception, so that a refused connection also asks for an early refresh.</summary>
public static class HeadlessServiceOutcomeExtensions
{
    /// <summary>
    /// Reports a failed call to <paramref name="endpoint"/> to passive health, like
    /// <see cref="IHeadlessService.ReportOutcome"/> with <c>succeeded: false</c>; and when <paramref name="error"/> (or an
    /// exception inside it) is a refused connection or an unreachable host or network — the pod may have left — asks for
    /// an early refresh (<see cref="IHeadlessService.RequestRefresh"/>, at most one round per minimum refresh interval).
    /// </summary>
    /// <param name="service">The service the pod belongs to.</param>
    /// <param name="endpoint">The pod that was called.</param>
    /// <param name="error">Why the call failed.</param>
    /// <param name="latency">How long the call took. Default <see cref="TimeSpan.Zero"/>.</param>
    public static void ReportFailure(this IHeadlessService service, PodEndpoint endpoint, Exception error, TimeSpan latency = default)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(error);
        service.ReportOutcome(endpoint, succeeded: false, latency);
        if (Unreachable.Is(error))
        {
            service.RequestRefresh();
        }
    }
}
