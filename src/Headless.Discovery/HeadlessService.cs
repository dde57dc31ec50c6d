using Microsoft.Extensions.Logging;

namespace Headless.Discovery;

/// <summary>
/// Creates the live, refreshed endpoint set of one headless Service (an <see cref="IHeadlessService"/>). It resolves
/// the service in the background on a schedule driven by the answer's TTL (clamped to
/// [<see cref="HeadlessServiceOptions.MinRefreshInterval"/>, <see cref="HeadlessServiceOptions.MaxRefreshInterval"/>],
/// with jitter), backs off after failures, keeps the last known good endpoints (marked stale) while DNS fails, and
/// publishes an immutable <see cref="EndpointSet"/> only when membership, staleness or health changes.
/// </summary>
/// <remarks>
/// <para>
/// Health: with <see cref="HeadlessServiceOptions.ActiveHealth"/> configured every pod is probed in the background;
/// outcomes given to <see cref="IHeadlessService.ReportOutcome"/> drive passive outlier ejection
/// (<see cref="HeadlessServiceOptions.PassiveHealth"/>). Health state follows the pod's identity across refreshes. Each
/// health transition publishes a new snapshot (same members, new <see cref="EndpointSet.Statuses"/>); every
/// publication, DNS- or health-driven, is serialized under one lock, so versions strictly increase and no update is
/// lost.
/// </para>
/// <para>
/// The service is thread-safe. <see cref="IHeadlessService.Current"/> is a single volatile read. Refreshes never
/// overlap. Dispose it (<c>await using</c>) to stop the timer, the probes and the ejection timers and wait for an
/// in-flight refresh to finish; waiters and watchers then end with <see cref="ObjectDisposedException"/> (waiters) or
/// the end of the stream (watchers). It also implements <see cref="IDisposable"/>, for containers that dispose
/// synchronously.
/// </para>
/// </remarks>
public static class HeadlessService
{
    /// <summary>
    /// Creates a live view of the headless Service named by <see cref="HeadlessServiceOptions.Name"/>, resolved over DNS
    /// by a <see cref="DnsEndpointResolver"/>. A short name is qualified with <see cref="ServiceName.Qualify"/>.
    /// Nothing is resolved until <see cref="IHeadlessService.Start"/> or an async member is called.
    /// </summary>
    /// <param name="options">What to resolve and how; copied and validated here (later changes to it have no effect).</param>
    /// <param name="timeProvider">The clock and timers. Default: <see cref="TimeProvider.System"/>.</param>
    /// <param name="loggerFactory">Logging. Default: no logging.</param>
    /// <param name="environment">Where to read the pod's namespace and cluster domain from. Default: <see cref="KubernetesDnsEnvironment.Default"/>.</param>
    /// <param name="random">The source of jitter (refresh delays, failure backoff, probe intervals); pass a seeded one for reproducible schedules. Used under a lock. Default: <see cref="Random.Shared"/>.</param>
    /// <returns>The service, not yet started.</returns>
    /// <exception cref="InvalidOptionsException">An option is missing or out of range (every problem is named).</exception>
    /// <exception cref="InvalidOperationException">A short name needs a namespace and none could be found.</exception>
    public static IHeadlessService Create(
        HeadlessServiceOptions options,
        TimeProvider? timeProvider = null,
        ILoggerFactory? loggerFactory = null,
        KubernetesDnsEnvironment? environment = null,
        Random? random = null)
        => new LiveHeadlessService(options, timeProvider, loggerFactory, environment, random);

    /// <summary>Creates a live view of <paramref name="service"/> over any resolver (a custom source, or a test double).</summary>
    /// <param name="service">The fully qualified service name.</param>
    /// <param name="resolver">Resolves the service on each refresh.</param>
    /// <param name="options">Refresh options, copied and validated here (later changes to it have no effect); <see cref="HeadlessServiceOptions.Name"/> and the DNS options are not used here.</param>
    /// <param name="timeProvider">The clock and timers. Default: <see cref="TimeProvider.System"/>.</param>
    /// <param name="loggerFactory">Logging. Default: no logging.</param>
    /// <param name="random">The source of jitter (refresh delays, failure backoff, probe intervals); pass a seeded one for reproducible schedules. Used under a lock. Default: <see cref="Random.Shared"/>.</param>
    /// <returns>The service, not yet started.</returns>
    /// <exception cref="InvalidOptionsException">An option is out of range (every problem is named).</exception>
    public static IHeadlessService Create(
        ServiceName service,
        IEndpointResolver resolver,
        HeadlessServiceOptions options,
        TimeProvider? timeProvider = null,
        ILoggerFactory? loggerFactory = null,
        Random? random = null)
        => new LiveHeadlessService(service, resolver, options, timeProvider, loggerFactory, random);
}
