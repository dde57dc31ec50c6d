using System.Collections.Immutable;
using System.Diagnostics;
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
/// Health: with <see cref="HeadlessServiceOptions.Health"/> configured every pod is probed in the background; outcomes
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
/// </remarks>
public sealed partial class HeadlessService : IHeadlessService
{
    /// <summary>A timer tick this close to the due time counts as due (system timers are coarser than the clock).</summary>
    private static readonly TimeSpan TimerSlack = TimeSpan.FromMilliseconds(15);

    private readonly IEndpointResolver _resolver;
    private readonly HeadlessServiceOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CancellationTokenSource _disposeCts = new();
    private readonly KeyValuePair<string, object?> _serviceTag;
    private readonly object _lifecycleLock = new();

    // Serializes every publication (DNS refresh and health). Lock order: _publishLock, then _lifecycleLock.
    private readonly object _publishLock = new();
    private readonly HealthTracker? _health;
    private readonly ChangeDispatcher _dispatcher;
    private int _healthDirty;

    private EndpointSet _current;
    private TaskCompletionSource _published = NewSignal();
    // Created only when a test asks for it: an unchanged refresh round must allocate nothing.
    private TaskCompletionSource? _refreshed;
    private ITimer? _timer;
    private Task _scheduledRefresh = Task.CompletedTask;
    private DateTimeOffset _nextRefreshDue = DateTimeOffset.MaxValue;
    private int _consecutiveFailures;
    private int _consecutiveEmptyAnswers;
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
    /// <param name="environment">Where to read the pod's namespace and cluster domain from. Default: <see cref="KubernetesDnsEnvironment.Default"/>.</param>
    /// <exception cref="ArgumentException">An option is missing or out of range (the message names it).</exception>
    /// <exception cref="InvalidOperationException">A short name needs a namespace and none could be found.</exception>
    public HeadlessService(
        HeadlessServiceOptions options,
        TimeProvider? timeProvider = null,
        ILoggerFactory? loggerFactory = null,
        KubernetesDnsEnvironment? environment = null)
        : this(Frozen(options, environment, out ServiceName name), name, loggerFactory, timeProvider)
    {
    }

    private HeadlessService(HeadlessServiceOptions frozen, ServiceName name, ILoggerFactory? loggerFactory, TimeProvider? timeProvider)
        : this(
            name,
            new DnsEndpointResolver(frozen.ToResolverOptions(), loggerFactory?.CreateLogger<DnsEndpointResolver>(), timeProvider),
            frozen,
            timeProvider,
            loggerFactory)
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
    /// <exception cref="ArgumentException">An option is out of range (the message names it).</exception>
    public HeadlessService(
        ServiceName service,
        IEndpointResolver resolver,
        HeadlessServiceOptions options,
        TimeProvider? timeProvider = null,
        ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(resolver);
        ArgumentNullException.ThrowIfNull(options);

        // The service keeps its own copy: later changes to the caller's options object have no effect.
        options = options.Clone();
        options.ValidateRefresh();

        Name = service;
        _resolver = resolver;
        _options = options;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)loggerFactory?.CreateLogger<HeadlessService>() ?? NullLogger.Instance;
        _serviceTag = new KeyValuePair<string, object?>(DiscoveryTelemetry.ServiceTag, service.Value);
        _current = EndpointSet.CreateInitial(service, _timeProvider.GetUtcNow());
        _dispatcher = new ChangeDispatcher(Deliver);
        if (options.Health.IsEnabled || options.PassiveHealth.Enabled)
        {
            _health = new HealthTracker(service, options.Health, options.PassiveHealth, options.PanicThreshold, _timeProvider, loggerFactory, RequestHealthPublish);
        }
    }

    /// <inheritdoc/>
    public ServiceName Name { get; }

    /// <inheritdoc/>
    public EndpointSet Current => Volatile.Read(ref _current);

    /// <inheritdoc/>
    public event EventHandler<EndpointSetChange>? Changed;

    /// <summary>For tests: the health tracker, or <see langword="null"/> when health is off.</summary>
    internal HealthTracker? Health => _health;

    /// <inheritdoc/>
    public TimeProvider TimeProvider => _timeProvider;

    /// <inheritdoc/>
    public CancellationToken Stopping => _disposeCts.Token;

    /// <summary>For tests: the delay chosen for the next scheduled refresh.</summary>
    internal TimeSpan LastScheduledDelay { get; private set; }

    /// <summary>For tests: completes after every refresh round (published or not), once the next one is scheduled.</summary>
    internal Task NextRefreshCompleted
    {
        get
        {
            TaskCompletionSource? signal = Volatile.Read(ref _refreshed);
            if (signal is null)
            {
                var created = NewSignal();
                signal = Interlocked.CompareExchange(ref _refreshed, created, null) ?? created;
            }

            if (_disposed)
            {
                // No round will run any more: never hand out a task that cannot complete.
                signal.TrySetResult();
            }

            return signal.Task;
        }
    }

    /// <summary>For tests: random numbers in [0, 1) used for jitter. Default: <see cref="Random.Shared"/>.</summary>
    [SuppressMessage("Security", "CA5394:Do not use insecure randomness", Justification = "Jitter, not security.")]
    internal Func<double> NextRandom { get; set; } = Random.Shared.NextDouble;

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
            _timer = _timeProvider.CreateTimer(static state => ((HeadlessService)state!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _nextRefreshDue = _timeProvider.GetUtcNow();
            _scheduledRefresh = Task.Run(RunScheduledRefreshAsync);
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
            Task signal = Volatile.Read(ref _published).Task;
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
            Task signal = Volatile.Read(ref _published).Task;
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
        await _gate.WaitAsync(token).ConfigureAwait(false);
        try
        {
            await RefreshCoreAsync(token).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }

        return Current;
    }

    /// <inheritdoc/>
    public void ReportOutcome(PodEndpoint endpoint, EndpointOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (!_disposed)
        {
            _health?.ReportOutcome(endpoint, outcome);
        }
    }

    /// <inheritdoc/>
    public ImmutableArray<EndpointStatus> GetHealthDetails()
    {
        EndpointSet current = Current;
        return _health is null ? current.Statuses : _health.GetDetails(current.Endpoints);
    }

    /// <summary>
    /// Called by the health tracker after a transition: republishes the current members with fresh statuses. Concurrent
    /// requests coalesce: while one thread publishes, others only mark the health dirty and return.
    /// </summary>
    private void RequestHealthPublish()
    {
        if (_disposed || Interlocked.Exchange(ref _healthDirty, 1) != 0)
        {
            return;
        }

        lock (_publishLock)
        {
            if (_disposed || Interlocked.Exchange(ref _healthDirty, 0) == 0)
            {
                return;
            }

            EndpointSet previous = Current;
            if (previous.Version == 0)
            {
                return;
            }

            (ImmutableArray<EndpointStatus> statuses, bool isPanic) = _health!.BuildStatuses(previous.Endpoints);
            if (SameHealth(previous, statuses, isPanic))
            {
                // A transition of a pod not in this snapshot yet, or one already published by a concurrent request.
                return;
            }

            Publish(previous, previous.WithHealth(statuses, isPanic, previous.Version + 1));
        }
    }

    private static bool SameHealth(EndpointSet set, ImmutableArray<EndpointStatus> statuses, bool isPanic)
    {
        if (set.IsPanic != isPanic)
        {
            return false;
        }

        if (set.KnowsNoHealth && statuses.IsDefault)
        {
            return true;
        }

        // A default status array means "unknown, not ejected" for every pod.
        for (int i = 0; i < set.Count; i++)
        {
            (EndpointHealth health, bool ejected) a = set.KnowsNoHealth ? (EndpointHealth.Unknown, false) : (set.Statuses[i].Health, set.Statuses[i].IsEjected);
            (EndpointHealth health, bool ejected) b = statuses.IsDefault ? (EndpointHealth.Unknown, false) : (statuses[i].Health, statuses[i].IsEjected);
            if (a != b)
            {
                return false;
            }
        }

        return true;
    }

    private void OnTimer()
    {
        lock (_lifecycleLock)
        {
            if (_disposed)
            {
                return;
            }

            Task previous = _scheduledRefresh;
            _scheduledRefresh = previous.IsCompleted
                ? RunScheduledRefreshAsync()
                : previous.ContinueWith(static (_, s) => ((HeadlessService)s!).RunScheduledRefreshAsync(), this, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).Unwrap();
        }
    }

    private async Task RunScheduledRefreshAsync()
    {
        CancellationToken token = _disposeCts.Token;
        try
        {
            await _gate.WaitAsync(token).ConfigureAwait(false);
            try
            {
                // A RefreshAsync call may have run (and rescheduled) while this timer tick waited for the gate,
                // or the timer fired a little early (its clock is coarser than GetUtcNow): re-arm for the rest, so
                // the loop never stops. Re-arming for the same due time is harmless.
                DateTimeOffset now = _timeProvider.GetUtcNow();
                if (now + TimerSlack < _nextRefreshDue)
                {
                    Schedule(_nextRefreshDue - now);
                    return;
                }

                await RefreshCoreAsync(token).ConfigureAwait(false);
            }
            finally
            {
                _gate.Release();
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Disposed.
        }
        catch (Exception ex)
        {
            // Never let the background loop die: log and try again after the failure backoff.
            Log.RefreshLoopError(_logger, Name.Value, ex);
            Schedule(FailureDelay(Math.Max(1, _consecutiveFailures)));
        }
    }

    /// <summary>One refresh round. Caller holds <see cref="_gate"/>.</summary>
    private async Task RefreshCoreAsync(CancellationToken cancellationToken)
    {
        ResolutionResult result;
        try
        {
            result = await _resolver.ResolveAsync(Name, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            // A custom resolver that throws is treated like a failed DNS round: never lose the set over it.
            result = ResolutionResult.Failed(ex);
        }

        Apply(result);
    }

    /// <summary>Publishes what a round's result decides (not in the async method, so its state machine stays small).</summary>
    private void Apply(ResolutionResult result)
    {
        try
        {
            lock (_publishLock)
            {
                DateTimeOffset now = _timeProvider.GetUtcNow();
                EndpointSet previous = Current;
                (EndpointSet? next, TimeSpan delay) = Decide(previous, result, now);

                Schedule(delay);

                if (next is not null)
                {
                    if (_health is not null)
                    {
                        // Health follows pod identity: pods that stayed keep their state, new ones start probing, gone ones stop.
                        _health.Sync(next.Endpoints);
                        Interlocked.Exchange(ref _healthDirty, 0);
                        (ImmutableArray<EndpointStatus> statuses, bool isPanic) = _health.BuildStatuses(next.Endpoints);
                        if (!statuses.IsDefault || isPanic)
                        {
                            next = next.WithHealth(statuses, isPanic, next.Version);
                        }
                    }

                    Publish(previous, next);
                }
            }
        }
        finally
        {
            Interlocked.Exchange(ref _refreshed, null)?.TrySetResult();
        }
    }

    /// <summary>The failure and empty-answer policy: what to publish (null = nothing) and when to refresh next.</summary>
    private (EndpointSet? Next, TimeSpan Delay) Decide(EndpointSet previous, ResolutionResult result, DateTimeOffset now)
    {
        switch (result.Outcome)
        {
            case ResolutionOutcome.Success:
            {
                bool recovered = previous.IsStale || _consecutiveFailures > 0 || _consecutiveEmptyAnswers > 0;
                if (recovered && previous.Version > 0)
                {
                    Log.Recovered(_logger, Name.Value, result.Endpoints.Length);
                }

                _consecutiveFailures = 0;
                _consecutiveEmptyAnswers = 0;
                TimeSpan delay = TtlDelay(result.Ttl);
                if (previous.Version > 0 && !previous.IsStale && EndpointSetChange.SameMembers(previous.Endpoints, result.Endpoints))
                {
                    return (null, delay);
                }

                return (new EndpointSet(Name, result.Endpoints, previous.Version + 1, now, result.Ttl, false, null, null), delay);
            }

            case ResolutionOutcome.NotFound:
            case ResolutionOutcome.NoData:
            {
                _consecutiveFailures = 0;
                _consecutiveEmptyAnswers++;
                if (previous.Count == 0 || _consecutiveEmptyAnswers >= _options.EmptyAnswerConfirmations)
                {
                    TimeSpan delay = TtlDelay(result.Ttl);
                    if (previous.Version > 0 && previous.Count == 0 && !previous.IsStale)
                    {
                        return (null, delay);
                    }

                    if (previous.Count > 0)
                    {
                        Log.EmptyAnswerAccepted(_logger, Name.Value, result.Outcome, _consecutiveEmptyAnswers, previous.Count);
                    }

                    // The resolver's error says why the set is empty (e.g. no SRV target has an address of the family).
                    return (new EndpointSet(Name, ImmutableArray<PodEndpoint>.Empty, previous.Version + 1, now, result.Ttl, false, null, result.Error), delay);
                }

                Log.EmptyAnswerNotYetAccepted(_logger, Name.Value, result.Outcome, _consecutiveEmptyAnswers, _options.EmptyAnswerConfirmations);
                var error = new EmptyAnswerException(Name, result.Outcome, _consecutiveEmptyAnswers, _options.EmptyAnswerConfirmations, result.Error);
                return (MarkStale(previous, error, now), Jitter.Apply(_options.MinRefreshInterval, _options.RefreshJitter, NextRandom()));
            }

            default:
            {
                _consecutiveFailures++;
                Exception error = result.Error ?? new InvalidOperationException($"Resolving '{Name}' failed.");
                Log.RefreshFailed(_logger, Name.Value, _consecutiveFailures, previous.Count, error);
                return (MarkStale(previous, error, now), FailureDelay(_consecutiveFailures));
            }
        }
    }

    /// <summary>Keeps the last known good endpoints, marked stale, until <see cref="HeadlessServiceOptions.MaxStaleness"/> runs out.</summary>
    private EndpointSet? MarkStale(EndpointSet previous, Exception error, DateTimeOffset now)
    {
        DateTimeOffset staleSince = previous.StaleSince ?? now;
        bool expired = _options.MaxStaleness != Timeout.InfiniteTimeSpan && now - staleSince > _options.MaxStaleness;
        if (expired && previous.Count > 0)
        {
            Log.StaleEndpointsDropped(_logger, Name.Value, previous.Count, _options.MaxStaleness);
            return new EndpointSet(Name, ImmutableArray<PodEndpoint>.Empty, previous.Version + 1, previous.ResolvedAt, previous.Ttl, true, staleSince, error);
        }

        if (previous.IsStale && previous.Version > 0)
        {
            // Already published as stale: a further failure changes nothing a reader can act on.
            return null;
        }

        return new EndpointSet(Name, previous.Endpoints, previous.Version + 1, previous.ResolvedAt, previous.Ttl, true, staleSince, error);
    }

    /// <summary>Swaps in <paramref name="next"/>, records metrics, wakes waiters and queues the change for <see cref="Changed"/>. Caller holds <see cref="_publishLock"/>.</summary>
    private void Publish(EndpointSet previous, EndpointSet next)
    {
        Volatile.Write(ref _current, next);
        EndpointSetChange change = EndpointSetChange.Compute(previous.Version == 0 ? null : previous, next);

        DiscoveryTelemetry.Endpoints.Record(next.Count, _serviceTag, new(DiscoveryTelemetry.StateTag, "total"));
        DiscoveryTelemetry.Endpoints.Record(next.IsStale ? next.Count : 0, _serviceTag, new(DiscoveryTelemetry.StateTag, "stale"));
        if (change.Added.Length > 0)
        {
            DiscoveryTelemetry.EndpointChanges.Add(change.Added.Length, _serviceTag, new(DiscoveryTelemetry.ChangeTag, "added"));
        }

        if (change.Removed.Length > 0)
        {
            DiscoveryTelemetry.EndpointChanges.Add(change.Removed.Length, _serviceTag, new(DiscoveryTelemetry.ChangeTag, "removed"));
        }

        _health?.OnPublished(previous, next);
        Log.Published(_logger, Name.Value, next.Version, next.Count, change.Added.Length, change.Removed.Length, next.IsStale);

        TaskCompletionSource published = Interlocked.Exchange(ref _published, NewSignal());
        published.TrySetResult();

        if (Changed is not null)
        {
            // Enqueued under the publish lock, so deliveries follow version order; they run outside it.
            _dispatcher.Enqueue(change);
        }
    }

    /// <summary>Runs every <see cref="Changed"/> handler for one change; on the dispatcher's thread, one change at a time.</summary>
    private void Deliver(EndpointSetChange change)
    {
        EventHandler<EndpointSetChange>? handlers = Changed;
        if (handlers is null)
        {
            return;
        }

        foreach (EventHandler<EndpointSetChange> handler in handlers.GetInvocationList().Cast<EventHandler<EndpointSetChange>>())
        {
            try
            {
                handler(this, change);
            }
            catch (Exception ex)
            {
                Log.ChangedHandlerFailed(_logger, Name.Value, ex);
            }
        }
    }

    private void Schedule(TimeSpan delay)
    {
        lock (_lifecycleLock)
        {
            if (_disposed || _timer is null)
            {
                return;
            }

            LastScheduledDelay = delay;
            _nextRefreshDue = _timeProvider.GetUtcNow() + delay;
            _timer.Change(delay, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>TTL clamped to [Min, Max] after jitter.</summary>
    internal TimeSpan TtlDelay(TimeSpan ttl)
    {
        TimeSpan jittered = Jitter.Apply(ttl, _options.RefreshJitter, NextRandom());
        if (jittered < _options.MinRefreshInterval)
        {
            return _options.MinRefreshInterval;
        }

        return jittered > _options.MaxRefreshInterval ? _options.MaxRefreshInterval : jittered;
    }

    /// <summary>The shared <see cref="Backoff"/> over the failure backoff options.</summary>
    internal TimeSpan FailureDelay(int consecutiveFailures) =>
        Backoff.Delay(consecutiveFailures, _options.FailureBackoffBase, _options.FailureBackoffMax, NextRandom());

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Stops the timer, cancels an in-flight refresh and waits for it; ends watchers and waiters. No
    /// <see cref="Changed"/> delivery starts after disposal begins (queued changes are dropped), and the one in progress
    /// is waited for, unless a handler is the caller; so no handler runs once the returned task completes.
    /// </summary>
    /// <returns>A task that completes when everything has stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        Task scheduled;
        lock (_lifecycleLock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            scheduled = _scheduledRefresh;
        }

        // Read before the first await: a handler that disposes the service is still on the dispatcher's thread here.
        Task delivered = _dispatcher.StopAsync(fromHandler: _dispatcher.IsDelivering);

        await _disposeCts.CancelAsync().ConfigureAwait(false);
        if (_timer is not null)
        {
            await _timer.DisposeAsync().ConfigureAwait(false);
        }

        try
        {
            await scheduled.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Expected when the refresh was cancelled by disposal.
        }

        if (_health is not null)
        {
            await _health.DisposeAsync().ConfigureAwait(false);
        }

        Volatile.Read(ref _published).TrySetResult();
        Interlocked.Exchange(ref _refreshed, null)?.TrySetResult();
        await delivered.ConfigureAwait(false);
        // _disposeCts is not disposed: StoppingToken may still be read by fan-outs racing with disposal, and a
        // CancellationTokenSource without a timer holds nothing that needs releasing.
    }
}
