using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace Headless.Discovery.Testing;

/// <summary>
/// An <see cref="IHeadlessService"/> for tests of code that consumes one (selectors, fan-out, connection sets, handlers):
/// no DNS and no background work; the test publishes every snapshot itself, with or without health, and reads back what
/// the code under test did (reported outcomes, refreshes).
/// </summary>
/// <remarks>
/// <para>
/// Publishing (<see cref="Publish(IEnumerable{PodEndpoint})"/> and its overloads) swaps <see cref="Current"/>, completes
/// the waits it satisfies, gives every watcher its change and raises <see cref="Changed"/> synchronously on the
/// publishing thread, before the call returns. A snapshot published while a delivery is under way (by a handler, or by
/// another thread) is delivered right after it by the thread already delivering, so every handler sees every change
/// once, in version order.
/// </para>
/// <para>
/// Unlike the real service, a watcher (<see cref="WatchAsync"/>) is not coalesced: it gets one item per published
/// snapshot. Thread-safe. Disposing cancels <see cref="Stopping"/>, ends the watches and fails pending waits with an
/// <see cref="ObjectDisposedException"/>.
/// </para>
/// </remarks>
public sealed partial class FakeHeadlessService : IHeadlessService, IAsyncDisposable
{
    private static readonly ServiceName DefaultName = ServiceName.Parse("web.default.svc.cluster.local");
    private static readonly TimeSpan SnapshotTtl = TimeSpan.FromSeconds(5);

    private readonly Lock _gate = new();
    private readonly Queue<EndpointSetChange> _undelivered = new();
    private readonly List<FakeWatcher> _watchers = [];
    private readonly List<FakeWaiter> _waiters = [];
    private readonly ConcurrentQueue<(PodEndpoint Endpoint, bool Succeeded, TimeSpan Latency)> _outcomes = new();
    private readonly CancellationTokenSource _stopping = new();
    private EndpointSet _current;
    private bool _delivering;
    private bool _disposed;
    private int _refreshCount;
    private int _refreshRequests;

    /// <summary>Creates a service with nothing published yet (<see cref="Current"/> is the version-0 placeholder).</summary>
    /// <param name="name">The service name. Default: <c>web.default.svc.cluster.local</c>.</param>
    /// <param name="timeProvider">
    /// The clock handed to consumers (<see cref="TimeProvider"/>) and stamped on published snapshots
    /// (<see cref="EndpointSet.ResolvedAt"/>). Default: <see cref="TimeProvider.System"/>.
    /// </param>
    public FakeHeadlessService(ServiceName? name = null, TimeProvider? timeProvider = null)
    {
        Name = name ?? DefaultName;
        TimeProvider = timeProvider ?? TimeProvider.System;
        _current = EndpointSet.Create(Name, [], 0, TimeProvider.GetUtcNow(), TimeSpan.Zero);
    }

    /// <summary>
    /// Creates a service named <c>web.default.svc.cluster.local</c> on the system clock, and publishes
    /// <paramref name="initialPods"/> (of unknown health) as version 1 unless there are none.
    /// </summary>
    /// <param name="initialPods">The pods of the first snapshot, in any order.</param>
    public FakeHeadlessService(params PodEndpoint[] initialPods)
        : this(name: null, timeProvider: null)
    {
        ArgumentNullException.ThrowIfNull(initialPods);
        if (initialPods.Length > 0)
        {
            Publish(initialPods);
        }
    }

    /// <inheritdoc/>
    public ServiceName Name { get; }

    /// <summary>The clock given at construction; consumers time their work on it.</summary>
    public TimeProvider TimeProvider { get; init; }

    /// <summary>Cancelled when the service is disposed.</summary>
    public CancellationToken Stopping => _stopping.Token;

    /// <summary>
    /// The latest published snapshot; the version-0 placeholder until the first publish. Raises <see cref="CurrentRead"/>
    /// first.
    /// </summary>
    public EndpointSet Current
    {
        get
        {
            CurrentRead?.Invoke();
            return Volatile.Read(ref _current);
        }
    }

    /// <summary>
    /// Raised on every read of <see cref="Current"/>, on the reading thread, before the value is read: lets a test hold a
    /// reader (for example a selector inside its lock) at a known point. Keep handlers short; they run on hot paths.
    /// </summary>
    public event Action? CurrentRead;

    /// <summary>Raised once per publish, synchronously and in version order (see the remarks on the type).</summary>
    /// <remarks>
    /// An exception thrown by a handler propagates to the <c>Publish</c> call that delivered it; later changes are still
    /// delivered by the next publish.
    /// </remarks>
    public event EventHandler<EndpointSetChange>? Changed;

    /// <summary>
    /// Raised by <see cref="ReportOutcome"/> after the outcome is recorded, on the reporting thread; an exception thrown
    /// by a handler propagates to the reporter (a failing health sink).
    /// </summary>
    public event Action<PodEndpoint, bool, TimeSpan>? OutcomeReported;

    /// <summary>Every outcome reported so far, in order (a thread-safe live view; enumerating takes a moment-in-time copy).</summary>
    public IReadOnlyCollection<(PodEndpoint Endpoint, bool Succeeded, TimeSpan Latency)> Outcomes => _outcomes;

    /// <summary>How many times <see cref="RefreshAsync"/> was called.</summary>
    public int RefreshCount => Volatile.Read(ref _refreshCount);

    /// <summary>How many times <see cref="RequestRefresh"/> was called (by the code under test, or by the library on a refused connection).</summary>
    public int RefreshRequests => Volatile.Read(ref _refreshRequests);

    /// <summary>Publishes <paramref name="pods"/>, all of unknown health, as the next version.</summary>
    /// <param name="pods">The pods, in any order; duplicates are removed.</param>
    /// <returns>The published snapshot.</returns>
    /// <exception cref="ObjectDisposedException">The service is disposed.</exception>
    public EndpointSet Publish(IEnumerable<PodEndpoint> pods)
    {
        ArgumentNullException.ThrowIfNull(pods);
        PodEndpoint[] copy = [.. pods];
        return Publish(version => EndpointSet.Create(Name, copy, version, TimeProvider.GetUtcNow(), SnapshotTtl));
    }

    /// <summary>Publishes pods with a health (and ejection) each, as the next version.</summary>
    /// <param name="statuses">One status per pod, in any order.</param>
    /// <param name="isPanic">
    /// Whether the snapshot is in panic mode (every pod available). Default: <see langword="false"/>: the available pods
    /// are those neither unhealthy nor ejected.
    /// </param>
    /// <returns>The published snapshot.</returns>
    /// <exception cref="ObjectDisposedException">The service is disposed.</exception>
    public EndpointSet Publish(IEnumerable<EndpointStatus> statuses, bool isPanic = false)
    {
        ArgumentNullException.ThrowIfNull(statuses);
        EndpointStatus[] copy = [.. statuses];
        return Publish(version => EndpointSet.Create(Name, copy, version, TimeProvider.GetUtcNow(), SnapshotTtl, isPanic));
    }

    /// <summary>Publishes a snapshot built by the test (for example a stale one), as it is.</summary>
    /// <param name="next">The snapshot; its <see cref="EndpointSet.Version"/> must be above that of <see cref="Current"/>.</param>
    /// <returns><paramref name="next"/>.</returns>
    /// <exception cref="ArgumentException">The version does not move forward, or the snapshot is of another service.</exception>
    /// <exception cref="ObjectDisposedException">The service is disposed.</exception>
    public EndpointSet Publish(EndpointSet next)
    {
        ArgumentNullException.ThrowIfNull(next);
        if (next.Service != Name)
        {
            throw new ArgumentException($"The snapshot is of {next.Service}, not {Name}.", nameof(next));
        }

        return Publish(version => next.Version >= version
            ? next
            : throw new ArgumentException($"Version {next.Version} does not move past {version - 1}.", nameof(next)));
    }

    /// <summary>Does nothing: there is no background work.</summary>
    public void Start()
    {
    }

    /// <summary>Returns <see cref="Current"/> once something is published; waits for the first publish otherwise.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The latest snapshot.</returns>
    public ValueTask<EndpointSet> GetEndpointsAsync(CancellationToken cancellationToken = default) =>
        WaitAsync(static (set, _) => set.Version > 0, 0, cancellationToken);

    /// <summary>Waits until a published snapshot holds at least <paramref name="minCount"/> endpoints (as the real service).</summary>
    /// <param name="minCount">The least number of endpoints; 1 or more. Default: 1.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The first snapshot with enough endpoints.</returns>
    public ValueTask<EndpointSet> WaitForEndpointsAsync(int minCount = 1, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minCount, 1);
        return WaitAsync(static (set, min) => set.Endpoints.Length >= min, minCount, cancellationToken);
    }

    /// <summary>
    /// Streams the current snapshot (kind <see cref="EndpointSetChangeKind.Initial"/>, once something is published),
    /// then one change per published snapshot, until <paramref name="cancellationToken"/> is cancelled (an
    /// <see cref="OperationCanceledException"/>) or the service is disposed (the stream ends).
    /// </summary>
    /// <param name="cancellationToken">Ends the stream.</param>
    /// <returns>The change stream.</returns>
    public async IAsyncEnumerable<EndpointSetChange> WatchAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var watcher = new FakeWatcher();
        lock (_gate)
        {
            if (_disposed)
            {
                yield break;
            }

            if (_current.Version > 0)
            {
                watcher.Offer(_current);
            }

            _watchers.Add(watcher);
        }

        try
        {
            ChannelReader<EndpointSetChange> reader = watcher.Changes.Reader;
            while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (reader.TryRead(out EndpointSetChange? change))
                {
                    yield return change;
                }
            }
        }
        finally
        {
            lock (_gate)
            {
                _watchers.Remove(watcher);
            }
        }
    }

    /// <summary>Records the outcome (<see cref="Outcomes"/>), then raises <see cref="OutcomeReported"/>.</summary>
    /// <param name="endpoint">The pod that was called.</param>
    /// <param name="succeeded">Whether the call succeeded.</param>
    /// <param name="latency">How long the call took (recorded as given).</param>
    public void ReportOutcome(PodEndpoint endpoint, bool succeeded, TimeSpan latency = default)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        _outcomes.Enqueue((endpoint, succeeded, latency));
        OutcomeReported?.Invoke(endpoint, succeeded, latency);
    }

    /// <summary>Counts the request (<see cref="RefreshRequests"/>); publishes nothing.</summary>
    public void RequestRefresh() => Interlocked.Increment(ref _refreshRequests);

    /// <summary>Counts the call (<see cref="RefreshCount"/>) and returns <see cref="Current"/>; publishes nothing.</summary>
    /// <param name="cancellationToken">Not used: the call completes at once.</param>
    /// <returns>The latest snapshot.</returns>
    /// <exception cref="ObjectDisposedException">The service is disposed.</exception>
    public ValueTask<EndpointSet> RefreshAsync(CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _refreshCount);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), this);
        return new ValueTask<EndpointSet>(Current);
    }

    /// <summary>
    /// Cancels <see cref="Stopping"/>, ends every watch, fails pending waits and drops undelivered changes. Idempotent.
    /// </summary>
    /// <returns>A completed task.</returns>
    public ValueTask DisposeAsync()
    {
        FakeWaiter[] waiters;
        FakeWatcher[] watchers;
        lock (_gate)
        {
            if (_disposed)
            {
                return ValueTask.CompletedTask;
            }

            _disposed = true;
            waiters = [.. _waiters];
            watchers = [.. _watchers];
            _waiters.Clear();
            _undelivered.Clear();
        }

        _stopping.Cancel();
        foreach (FakeWaiter waiter in waiters)
        {
            waiter.Result.TrySetException(new ObjectDisposedException(nameof(FakeHeadlessService)));
        }

        foreach (FakeWatcher watcher in watchers)
        {
            watcher.Changes.Writer.TryComplete();
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Swaps in the snapshot <paramref name="build"/> makes for the next version, then delivers it.</summary>
    private EndpointSet Publish(Func<long, EndpointSet> build)
    {
        EndpointSet next;
        List<FakeWaiter>? satisfied = null;
        bool deliver;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            EndpointSet previous = _current;
            next = build(previous.Version + 1);
            Volatile.Write(ref _current, next);
            _undelivered.Enqueue(EndpointSetChange.Compute(previous, next));
            foreach (FakeWatcher watcher in _watchers)
            {
                watcher.Offer(next);
            }

            for (int i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].IsSatisfiedBy(next))
                {
                    (satisfied ??= []).Add(_waiters[i]);
                    _waiters.RemoveAt(i);
                }
            }

            deliver = !_delivering;
            _delivering = true;
        }

        foreach (FakeWaiter waiter in satisfied ?? [])
        {
            waiter.Result.TrySetResult(next);
        }

        if (deliver)
        {
            DeliverPending();
        }

        return next;
    }

    /// <summary>Raises <see cref="Changed"/> for every queued change, one at a time, until the queue is empty.</summary>
    private void DeliverPending()
    {
        bool finished = false;
        try
        {
            while (true)
            {
                EndpointSetChange? change;
                lock (_gate)
                {
                    if (!_undelivered.TryDequeue(out change))
                    {
                        _delivering = false;
                        finished = true;
                        return;
                    }
                }

                Changed?.Invoke(this, change);
            }
        }
        finally
        {
            if (!finished)
            {
                // A handler threw: let the next publish deliver what is left rather than leave it queued for ever.
                lock (_gate)
                {
                    _delivering = false;
                }
            }
        }
    }
}
