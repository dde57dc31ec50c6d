using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Headless.Discovery;

/// <summary>
/// The live, refreshed endpoint set of one headless Service. Resolves the service in the background on a schedule
/// driven by the answer's TTL (clamped to [<see cref="HeadlessServiceOptions.MinRefreshInterval"/>,
/// <see cref="HeadlessServiceOptions.MaxRefreshInterval"/>], with jitter), backs off after failures, keeps the last
/// known good endpoints (marked stale) while DNS fails, and publishes an immutable <see cref="EndpointSet"/> only when
/// membership, staleness or health changes.
/// </summary>
/// <remarks>
/// <para>
/// Health: with <see cref="HeadlessServiceOptions.ActiveHealth"/> configured every pod is probed in the background; outcomes
/// given to <see cref="ReportOutcome"/> drive passive outlier ejection (<see cref="HeadlessServiceOptions.PassiveHealth"/>).
/// Health state follows the pod's identity across refreshes. Each health transition publishes a new snapshot (same
/// members, new <see cref="EndpointSet.Statuses"/>); every publication, DNS- or health-driven, is serialized under one
/// lock, so versions strictly increase and no update is lost.
/// </para>
/// <para>
/// Thread-safe. <see cref="Current"/> is a single volatile read. Refreshes never overlap. Dispose to stop the timer, the
/// probes and the ejection timers and wait for an in-flight refresh to finish; waiters and watchers then end with
/// <see cref="ObjectDisposedException"/> (waiters) or the end of the stream (watchers).
/// </para>
/// <para>
/// Inside, this facade only wires the rooms, and data flows one way: the refresh loop (Refresh/) decides each round's
/// membership; the health tracker (Health/) follows it and sends health events; the publisher (Publication/) composes
/// both into the next snapshot and delivers changes.
/// </para>
/// </remarks>
public sealed partial class HeadlessService : IHeadlessService
{
    private readonly CancellationTokenSource _disposeCts = new();
    private readonly object _lifecycleLock = new();
    private readonly RefreshLoop _refresh;
    private readonly HealthTracker? _health;
    private readonly EndpointPublisher _publisher;
    private bool _started;
    private volatile bool _disposed;

    /// <summary>
    /// Creates a live view of the headless Service named by <see cref="HeadlessServiceOptions.Name"/>, resolved over DNS
    /// by a <see cref="DnsEndpointResolver"/>. A short name is qualified with <see cref="ServiceName.Qualify"/>.
    /// Nothing is resolved until <see cref="Start"/> or an async member is called.
    /// </summary>
    /// <param name="options">What to resolve and how; copied and validated here (later changes to it have no effect).</param>
    /// <param name="timeProvider">The clock and timers. Default: <see cref="TimeProvider.System"/>.</param>
    /// <param name="loggerFactory">Logging. Default: no logging.</param>
    /// <param name="environment">Where to read the pod's namespace and cluster domain from. Default: this pod's own (POD_NAMESPACE, the service-account namespace file, /etc/resolv.conf).</param>
    /// <param name="random">The source of jitter (refresh delays, failure backoff, probe intervals); pass a seeded one for reproducible schedules. Used under a lock. Default: <see cref="Random.Shared"/>.</param>
    /// <exception cref="ArgumentException">An option is missing or out of range (the message names it).</exception>
    /// <exception cref="InvalidOperationException">A short name needs a namespace and none could be found.</exception>
    public HeadlessService(
        HeadlessServiceOptions options,
        TimeProvider? timeProvider = null,
        ILoggerFactory? loggerFactory = null,
        KubernetesDnsEnvironment? environment = null,
        Random? random = null)
        : this(Frozen(options, environment, out ServiceName name), name, loggerFactory, timeProvider, random)
    {
    }

    private HeadlessService(HeadlessServiceOptions frozen, ServiceName name, ILoggerFactory? loggerFactory, TimeProvider? timeProvider, Random? random)
        : this(
            name,
            new DnsResolver(frozen.ToResolverOptions(), loggerFactory, timeProvider),
            frozen,
            timeProvider,
            loggerFactory,
            random)
    {
    }

    /// <summary>A validated copy of <paramref name="options"/> (what the service keeps) and the qualified name.</summary>
    private static HeadlessServiceOptions Frozen(HeadlessServiceOptions options, KubernetesDnsEnvironment? environment, out ServiceName name)
    {
        ArgumentNullException.ThrowIfNull(options);
        HeadlessServiceOptions frozen = options.Clone();
        frozen.Validate();
        name = ServiceName.Qualify(frozen.Name!, environment);
        return frozen;
    }

    /// <summary>Creates a live view of <paramref name="service"/> over any resolver (a custom source, or a test double).</summary>
    /// <param name="service">The fully qualified service name.</param>
    /// <param name="resolver">Resolves the service on each refresh.</param>
    /// <param name="options">Refresh options, copied and validated here (later changes to it have no effect); <see cref="HeadlessServiceOptions.Name"/> and the DNS options are not used here.</param>
    /// <param name="timeProvider">The clock and timers. Default: <see cref="TimeProvider.System"/>.</param>
    /// <param name="loggerFactory">Logging. Default: no logging.</param>
    /// <param name="random">The source of jitter (refresh delays, failure backoff, probe intervals); pass a seeded one for reproducible schedules. Used under a lock. Default: <see cref="Random.Shared"/>.</param>
    /// <exception cref="ArgumentException">An option is out of range (the message names it).</exception>
    public HeadlessService(
        ServiceName service,
        IEndpointResolver resolver,
        HeadlessServiceOptions options,
        TimeProvider? timeProvider = null,
        ILoggerFactory? loggerFactory = null,
        Random? random = null)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(resolver);
        ArgumentNullException.ThrowIfNull(options);

        // The service keeps its own copy: later changes to the caller's options object have no effect.
        options = options.Clone();
        options.ValidateRefresh();

        Name = service;
        TimeProvider clock = timeProvider ?? TimeProvider.System;
        TimeProvider = clock;
        ILogger logger = (ILogger?)loggerFactory?.CreateLogger<HeadlessService>() ?? NullLogger.Instance;
        ILogger healthLogger = (ILogger?)loggerFactory?.CreateLogger("Headless.Discovery.Health") ?? NullLogger.Instance;
        Func<double> random01 = Random01(random);
        bool tracksHealth = options.ActiveHealth.Enabled || options.PassiveHealth.Enabled;

        var initial = Membership.Initial(clock.GetUtcNow());
        _publisher = new EndpointPublisher(service, initial, options.PanicThreshold, tracksHealth, this, logger, healthLogger);
        if (tracksHealth)
        {
            _health = new HealthTracker(service, options.ActiveHealth, options.PassiveHealth, clock, healthLogger, random01, new HealthEvents(this));
        }

        RefreshSettings settings = RefreshSettingsOf(options);
        var schedule = new RefreshSchedule(settings, random01);
        var policy = new MembershipPolicy(service, settings, schedule, initial, logger);
        _refresh = new RefreshLoop(service, resolver, policy, schedule, clock, logger, OnMembership, _disposeCts.Token);
    }

    private static RefreshSettings RefreshSettingsOf(HeadlessServiceOptions options) => new(
        options.MinRefreshInterval,
        options.MaxRefreshInterval,
        options.RefreshJitter,
        options.FailureBackoffBase,
        options.FailureBackoffMax,
        options.MaxStaleness,
        options.EmptyAnswerConfirmations);

    /// <summary>Uniform samples in [0, 1): from <paramref name="random"/> under a lock (it is not thread-safe), else the shared one.</summary>
    [SuppressMessage("Security", "CA5394:Do not use insecure randomness", Justification = "Jitter, not security.")]
    private static Func<double> Random01(Random? random) => random is null
        ? Random.Shared.NextDouble
        : () =>
        {
            lock (random)
            {
                return random.NextDouble();
            }
        };

    /// <inheritdoc/>
    public ServiceName Name { get; }

    /// <inheritdoc/>
    public EndpointSet Current => _publisher.Current;

    /// <inheritdoc/>
    public event EventHandler<EndpointSetChange>? Changed
    {
        add => _publisher.Changed += value;
        remove => _publisher.Changed -= value;
    }

    /// <inheritdoc/>
    public TimeProvider TimeProvider { get; }

    /// <inheritdoc/>
    public CancellationToken Stopping => _disposeCts.Token;

    /// <summary>A round decided a new membership: health follows it first (so no event of a gone pod comes later), then it is published.</summary>
    private void OnMembership(Membership membership)
    {
        _health?.Sync(membership.Endpoints);
        _publisher.PublishMembership(membership);
    }

    /// <inheritdoc/>
    public void Start()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        lock (_lifecycleLock)
        {
            if (_started || _disposed)
            {
                return;
            }

            _started = true;
            _refresh.Start();
        }
    }

    /// <inheritdoc/>
    public ValueTask<EndpointSet> GetEndpointsAsync(CancellationToken cancellationToken = default)
    {
        EndpointSet current = Current;
        if (current.Version > 0)
        {
            return new ValueTask<EndpointSet>(current);
        }

        return WaitForFirstAsync(cancellationToken);
    }

    // Out of line so the async state machine of the slow path is not inlined (and zeroed) on the fast path.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private ValueTask<EndpointSet> WaitForFirstAsync(CancellationToken cancellationToken) =>
        WaitAsync(static set => set.Version > 0, cancellationToken);

    /// <inheritdoc/>
    public ValueTask<EndpointSet> WaitForEndpointsAsync(int minCount = 1, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minCount, 1);
        EndpointSet current = Current;
        if (current.Count >= minCount)
        {
            return new ValueTask<EndpointSet>(current);
        }

        return WaitForCountAsync(minCount, cancellationToken);
    }

    // Separate from WaitForEndpointsAsync so the lambda's closure is allocated only on the slow path.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private ValueTask<EndpointSet> WaitForCountAsync(int minCount, CancellationToken cancellationToken) =>
        WaitAsync(set => set.Count >= minCount, cancellationToken);

    /// <summary>Waits until a published snapshot satisfies <paramref name="condition"/> (starts the service).</summary>
    internal async ValueTask<EndpointSet> WaitAsync(Func<EndpointSet, bool> condition, CancellationToken cancellationToken)
    {
        Start();
        while (true)
        {
            Task signal = _publisher.NextPublication;
            EndpointSet current = Current;
            if (condition(current))
            {
                return current;
            }

            ObjectDisposedException.ThrowIf(_disposed, this);
            await signal.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<EndpointSetChange> WatchAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        Start();
        EndpointSet? last = null;
        while (true)
        {
            Task signal = _publisher.NextPublication;
            EndpointSet current = Current;
            if (current.Version > 0 && (last is null || current.Version != last.Version))
            {
                // Every version move is an item, even with no net difference (a pod that left and came back between
                // two reads): a watcher's last item is always the latest snapshot.
                EndpointSetChange change = EndpointSetChange.Compute(last, current);
                last = current;
                yield return change;
                continue;
            }

            if (_disposed)
            {
                yield break;
            }

            await signal.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public async ValueTask<EndpointSet> RefreshAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Start();

        // A caller token that can never be cancelled needs no linked source (saves an allocation per call).
        using CancellationTokenSource? linked = cancellationToken.CanBeCanceled
            ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposeCts.Token)
            : null;
        CancellationToken token = linked?.Token ?? _disposeCts.Token;
        await _refresh.RefreshAsync(token).ConfigureAwait(false);

        return Current;
    }

    /// <inheritdoc/>
    public void RequestRefresh()
    {
        if (!_disposed)
        {
            _refresh.RequestEarly();
        }
    }

    /// <inheritdoc/>
    public void ReportOutcome(PodEndpoint endpoint, bool succeeded, TimeSpan latency = default)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (!_disposed)
        {
            _health?.ReportOutcome(endpoint, succeeded);
        }
    }

    /// <inheritdoc/>
    public ImmutableArray<EndpointStatus> GetHealthDetails()
    {
        EndpointSet current = Current;
        return _health is null ? current.Statuses : _health.GetDetails(current.Endpoints);
    }

    /// <summary>
    /// Stops the timer, cancels an in-flight refresh and waits for it; ends watchers and waiters. No
    /// <see cref="Changed"/> delivery starts after disposal begins (queued changes are dropped), and the one in progress
    /// is waited for, unless a handler is the caller; so no handler runs once the returned task completes.
    /// </summary>
    /// <returns>A task that completes when everything has stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        lock (_lifecycleLock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        // Read before the first await: a handler that disposes the service is still on the dispatcher's thread here.
        Task delivered = _publisher.StopDeliveriesAsync(fromHandler: _publisher.IsDelivering);

        await _disposeCts.CancelAsync().ConfigureAwait(false);
        await _refresh.DisposeAsync().ConfigureAwait(false);
        if (_health is not null)
        {
            await _health.DisposeAsync().ConfigureAwait(false);
        }

        _publisher.WakeWaiters();
        await delivered.ConfigureAwait(false);
        // _disposeCts is not disposed: Stopping may still be read by fan-outs racing with disposal, and a
        // CancellationTokenSource without a timer holds nothing that needs releasing.
    }

    /// <summary>Routes health events: statuses to the publisher, an unreachable pod to an early refresh.</summary>
    private sealed class HealthEvents(HeadlessService owner) : IHealthEventSink
    {
        public void OnStatus(EndpointStatus status) => owner._publisher.OnStatus(status);

        public void OnUnreachable(PodEndpoint endpoint) => owner.RequestRefresh();
    }
}
