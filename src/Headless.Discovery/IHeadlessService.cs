namespace Headless.Discovery;

/// <summary>
/// The live view of one headless Service: the latest endpoint snapshot, kept fresh in the background, with ways to
/// wait for endpoints, watch changes and force a refresh. Thread-safe. Dispose it to stop every background loop.
/// </summary>
public interface IHeadlessService : IAsyncDisposable
{
    /// <summary>The fully qualified service name.</summary>
    ServiceName Name { get; }

    /// <summary>
    /// The latest snapshot: a single volatile read, no lock, no allocation. Before the first resolution completes it is an
    /// empty placeholder with <see cref="EndpointSet.Version"/> 0.
    /// </summary>
    EndpointSet Current { get; }

    /// <summary>
    /// The clock the service runs on (refresh schedule, health probes, snapshot times). Selectors, fan-outs and
    /// connection sets over the service use it too (lease latencies, per-pod timeouts, deadlines, reconnect backoff), so
    /// a test drives them all with one fake clock. Default of <see cref="HeadlessService"/>: <see cref="TimeProvider.System"/>.
    /// Never changes; thread-safe.
    /// </summary>
    TimeProvider TimeProvider { get; }

    /// <summary>
    /// Cancelled when the service is disposed (as disposal begins), so work started over it stops with it: fan-outs in
    /// flight are cancelled and throw <see cref="ObjectDisposedException"/>. Never cancelled otherwise; reading it is
    /// thread-safe and stays valid after disposal.
    /// </summary>
    CancellationToken Stopping { get; }

    /// <summary>
    /// Raised once per published snapshot, with the difference from the previous one.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Delivery: handlers run on a thread-pool thread, never on the thread that published and never under a lock of the
    /// service; one change at a time, to every handler in subscription order, in strictly increasing
    /// <see cref="EndpointSet.Version"/> order, and every version published while a handler is subscribed reaches it
    /// once. A snapshot published while a handler runs (by that handler or anyone else) is delivered after the current
    /// delivery returns, so once publishing stops the last change each handler saw is <see cref="Current"/>. By then
    /// <see cref="Current"/> may already be newer than the change being delivered.
    /// </para>
    /// <para>
    /// What a handler may do: anything, including calling back into the service — <see cref="ReportOutcome"/>,
    /// <see cref="RefreshAsync"/> (even blocking on it), <see cref="IAsyncDisposable.DisposeAsync"/> (even blocking
    /// on it). A slow handler delays later deliveries to every handler, not publication, <see cref="Current"/>, waiters
    /// or watchers. An exception thrown by a handler is logged and swallowed; the other handlers still run. No delivery
    /// starts after disposal begins.
    /// </para>
    /// </remarks>
    event EventHandler<EndpointSetChange>? Changed;

    /// <summary>Starts the background refresh loop if it is not running yet. Idempotent; the async members start it too.</summary>
    void Start();

    /// <summary>
    /// Returns <see cref="Current"/> at once (a synchronously completed task) when a snapshot exists; otherwise starts
    /// the loop and waits for the first resolution attempt to finish.
    /// </summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The latest snapshot.</returns>
    ValueTask<EndpointSet> GetEndpointsAsync(CancellationToken cancellationToken = default);

    /// <summary>Waits until the published snapshot holds at least <paramref name="minCount"/> endpoints.</summary>
    /// <param name="minCount">The least number of endpoints to wait for; 1 or more. Default: 1.</param>
    /// <param name="cancellationToken">Cancels the wait (use a timeout token to bound it).</param>
    /// <returns>The first snapshot with at least <paramref name="minCount"/> endpoints.</returns>
    ValueTask<EndpointSet> WaitForEndpointsAsync(int minCount = 1, CancellationToken cancellationToken = default);

    /// <summary>
    /// Streams changes. The first item is the current snapshot (every endpoint counted as added, kind
    /// <see cref="EndpointSetChangeKind.Initial"/>), after the first resolution attempt. A slow consumer is never queued
    /// up: it gets one change from the last snapshot it saw (<see cref="EndpointSetChange.Previous"/>) to the latest one,
    /// whenever the version moved — with kind <see cref="EndpointSetChangeKind.None"/> when the snapshots it missed
    /// cancel out (a pod that left and came back). So each item's <see cref="EndpointSetChange.Previous"/> is the
    /// previous item's <see cref="EndpointSetChange.Current"/>, and the last item is always the latest snapshot.
    /// </summary>
    /// <param name="cancellationToken">Ends the stream.</param>
    /// <returns>The change stream.</returns>
    IAsyncEnumerable<EndpointSetChange> WatchAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Reports the outcome of a call to <paramref name="endpoint"/> to passive health (outlier detection). Cheap and
    /// thread-safe: a success is a lookup and at most one write, allocation-free; the failure that ejects a pod
    /// publishes the new snapshot on the calling thread. Outcomes for pods that are no longer members are ignored.
    /// </summary>
    /// <param name="endpoint">The pod that was called.</param>
    /// <param name="succeeded">Whether the call succeeded (a connection error, timeout or 5xx is a failure).</param>
    /// <param name="latency">How long the call took. Informational: passive health counts successes and failures only.
    /// Default <see cref="TimeSpan.Zero"/>.</param>
    void ReportOutcome(PodEndpoint endpoint, bool succeeded, TimeSpan latency = default);

    /// <summary>
    /// Live health details of every pod in <see cref="Current"/> (aligned by index with its
    /// <see cref="EndpointSet.Endpoints"/>): the latest probe latency, error and failure count, which change without
    /// publishing a new snapshot. For tables and diagnostics; allocates one array per call. Thread-safe.
    /// </summary>
    /// <returns>One status per pod; the snapshot's own <see cref="EndpointSet.Statuses"/> when there is no health tracking.</returns>
    System.Collections.Immutable.ImmutableArray<EndpointStatus> GetHealthDetails() => Current.Statuses;

    /// <summary>
    /// Asks for a refresh soon, because a pod may have left (it refused a connection, or its host is unreachable): the
    /// next round runs at once when the last one started at least <see cref="HeadlessServiceOptions.MinRefreshInterval"/>
    /// ago, else when that much time has passed — never later than already scheduled. So a scaled-down pod leaves the set
    /// well before the answer's TTL, and a burst of failures costs at most one DNS round per minimum interval. Returns at
    /// once, never throws; does nothing before the service starts or after disposal. The library asks by itself when a
    /// probe, a <see cref="ConnectionSet{TConnection}"/> connect or the HttpClient handler meets a refused connection;
    /// report your own failures with <see cref="HeadlessServiceOutcomeExtensions.ReportFailure"/> to get the same.
    /// </summary>
    void RequestRefresh();

    /// <summary>Resolves now, publishes the result like a scheduled refresh would, and reschedules the next one.</summary>
    /// <param name="cancellationToken">Cancels the wait for this refresh.</param>
    /// <returns>The snapshot after the refresh.</returns>
    ValueTask<EndpointSet> RefreshAsync(CancellationToken cancellationToken = default);
}
