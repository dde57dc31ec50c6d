using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Headless.Discovery;

/// <summary>
/// Connect-to-all: keeps exactly one live connection per pod of a headless Service as membership and health change.
/// A pod that joins (or becomes available) is connected, with retries and exponential backoff while it stays a
/// member (on the service's <see cref="IHeadlessService.TimeProvider"/>); a pod that leaves (or becomes unavailable) has its connection taken out of the set and closed as soon as the
/// last in-flight use (<see cref="ConnectionLease{TConnection}"/>) ends; a connection reported broken is replaced.
/// </summary>
/// <remarks>
/// <para>
/// Never two connections for one pod: a replacement is made only after the previous connection is closed. Thread-safe.
/// <see cref="Connections"/> is a volatile read of an immutable snapshot; <see cref="TryAcquire(PodEndpoint, out ConnectionLease{TConnection})"/>
/// takes no lock and allocates nothing.
/// </para>
/// <para>
/// Dispose to close every connection: disposal waits for in-flight leases to end. Connections are closed with the
/// close delegate given to the constructor, or else through <see cref="IAsyncDisposable"/> / <see cref="IDisposable"/>.
/// </para>
/// </remarks>
/// <typeparam name="TConnection">The connection type (a socket, a client, a channel…).</typeparam>
public sealed partial class ConnectionSet<TConnection> : IAsyncDisposable
    where TConnection : class
{
    private readonly IHeadlessService _service;
    private readonly Func<TConnection, ValueTask> _close;
    private readonly ConnectionSetOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Reconnector<TConnection> _reconnector;
    private readonly Lock _sync = new();
    private readonly Dictionary<PodEndpoint, Slot> _slots = [];
    private readonly List<Task> _loops = [];
    private Published _published = new([], FrozenDictionary<PodEndpoint, ConnectionHolder<TConnection>>.Empty);
    private TaskCompletionSource _changed = NewSignal();
    private bool _started;
    private bool _disposed;

    /// <summary>Creates a connection set; nothing connects until <see cref="Start"/>.</summary>
    /// <param name="service">The service whose pods to connect to.</param>
    /// <param name="connect">Makes one connection to a pod; honour the token (it carries the connect timeout and removal). Throw to fail the attempt.</param>
    /// <param name="close">Closes a connection. Default: <see cref="IAsyncDisposable.DisposeAsync"/> or <see cref="IDisposable.Dispose"/> when implemented.</param>
    /// <param name="options">Connect options. Default: a new <see cref="ConnectionSetOptions"/>.</param>
    /// <param name="loggerFactory">Logging. Default: none.</param>
    /// <param name="random">
    /// Where the reconnect backoff draws its jitter (one draw per failed connect attempt). Default: <see cref="Random.Shared"/>.
    /// Pass <c>new Random(seed)</c> for reproducible delays; the set serializes its draws, so any instance will do.
    /// </param>
    /// <exception cref="ArgumentException">An option is out of range (the message names it).</exception>
    public ConnectionSet(
        IHeadlessService service,
        Func<PodEndpoint, CancellationToken, ValueTask<TConnection>> connect,
        Func<TConnection, ValueTask>? close = null,
        ConnectionSetOptions? options = null,
        ILoggerFactory? loggerFactory = null,
        Random? random = null)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(connect);
        // The set keeps its own copy: later changes to the caller's options object have no effect.
        options = options?.Clone() ?? new ConnectionSetOptions();
        options.Validate();
        _service = service;
        _close = close ?? DefaultClose;
        _options = options;
        _time = service.TimeProvider;
        _logger = (ILogger?)loggerFactory?.CreateLogger<ConnectionSet<TConnection>>() ?? NullLogger.Instance;
        _reconnector = new Reconnector<TConnection>(connect, options, _time, random ?? Random.Shared, _logger, service.Name.Value, service.RequestRefresh);
    }

    /// <summary>The live connections, one per connected pod, in snapshot order. A volatile read; no lock, no allocation.</summary>
    public ImmutableArray<PodConnection<TConnection>> Connections => Volatile.Read(ref _published).Connections;

    /// <summary>
    /// Raised when a connection is made or let go. Handlers run on a background task; keep them short. An exception
    /// thrown by a handler is logged and swallowed.
    /// </summary>
    public event EventHandler<ConnectionSetChange<TConnection>>? Changed;

    /// <summary>Starts following the service (and starts the service). Idempotent.</summary>
    /// <exception cref="ObjectDisposedException">The set is disposed.</exception>
    public void Start()
    {
        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_started)
            {
                return;
            }

            _started = true;
        }

        _service.Changed += OnServiceChanged;
        _service.Start();
        Reconcile();
    }

    /// <summary>Uses the connection to <paramref name="endpoint"/>, if one is live. Dispose the lease when done.</summary>
    /// <param name="endpoint">The pod.</param>
    /// <param name="lease">The lease, or <see langword="default"/>.</param>
    /// <returns><see langword="true"/> when the pod has a live connection.</returns>
    public bool TryAcquire(PodEndpoint endpoint, out ConnectionLease<TConnection> lease)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (Volatile.Read(ref _published).ByEndpoint.TryGetValue(endpoint, out ConnectionHolder<TConnection>? holder) && holder.TryAddRef())
        {
            lease = new ConnectionLease<TConnection>(holder);
            return true;
        }

        lease = default;
        return false;
    }

    /// <summary>Picks a pod with <paramref name="selector"/> and uses its connection, if it has one.</summary>
    /// <param name="selector">A selector over the same service.</param>
    /// <param name="lease">The lease, or <see langword="default"/>.</param>
    /// <returns><see langword="true"/> when a pod was picked and has a live connection.</returns>
    public bool TryAcquire(IEndpointSelector selector, out ConnectionLease<TConnection> lease)
    {
        ArgumentNullException.ThrowIfNull(selector);
        if (selector.TryPick(out PodEndpoint? endpoint))
        {
            return TryAcquire(endpoint, out lease);
        }

        lease = default;
        return false;
    }

    /// <summary>Reports the live connection of <paramref name="endpoint"/> broken: it is replaced (see <see cref="ConnectionLease{TConnection}.MarkBroken"/>).</summary>
    /// <param name="endpoint">The pod.</param>
    /// <returns><see langword="true"/> when the pod had a live connection.</returns>
    public bool ReportBroken(PodEndpoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (Volatile.Read(ref _published).ByEndpoint.TryGetValue(endpoint, out ConnectionHolder<TConnection>? holder))
        {
            holder.Retire(ConnectionCloseReason.Broken);
            return true;
        }

        return false;
    }

    /// <summary>
    /// Starts the set if needed and waits until the live connections satisfy <paramref name="condition"/> (checked now
    /// and after each change), e.g. <c>c =&gt; c.Length &gt;= 3</c>.
    /// </summary>
    /// <param name="condition">The condition over the current connections.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The connections at that moment.</returns>
    public async ValueTask<ImmutableArray<PodConnection<TConnection>>> WaitAsync(Func<ImmutableArray<PodConnection<TConnection>>, bool> condition, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(condition);
        Start();
        while (true)
        {
            Task signal = Volatile.Read(ref _changed).Task;
            ImmutableArray<PodConnection<TConnection>> current = Connections;
            if (condition(current))
            {
                return current;
            }

            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), this);
            await signal.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Stops following the service and closes every connection, after in-flight leases end. Idempotent.</summary>
    /// <returns>A task that completes when every connection is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        List<(CancellationTokenSource Cancel, ConnectionHolder<TConnection>? Holder)> stopping = [];
        Task[] loops;
        lock (_sync)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            foreach (Slot slot in _slots.Values)
            {
                if (slot.Desired)
                {
                    slot.Desired = false;
                    stopping.Add((slot.Cancel, slot.Holder));
                }
            }

            loops = [.. _loops];
        }

        _service.Changed -= OnServiceChanged;
        Stop(stopping, ConnectionCloseReason.Disposed);
        await Task.WhenAll(loops).ConfigureAwait(false);
        Volatile.Read(ref _changed).TrySetResult();
    }

    /// <summary>A short description.</summary>
    public override string ToString() => $"ConnectionSet over {_service.Name}: {Connections.Length} connection(s)";

    private void OnServiceChanged(object? sender, EndpointSetChange change) => Reconcile();

    private void Reconcile()
    {
        List<(CancellationTokenSource Cancel, ConnectionHolder<TConnection>? Holder)> stopping = [];
        lock (_sync)
        {
            if (_disposed)
            {
                return;
            }

            // Always the latest snapshot, so out-of-order notifications cannot apply an older one.
            EndpointSet current = _service.Current;
            ImmutableArray<PodEndpoint> wanted = _options.IncludeUnhealthy ? current.Endpoints : current.Available;
            var wantedSet = new HashSet<PodEndpoint>(wanted);
            foreach (Slot slot in _slots.Values)
            {
                if (slot.Desired && !wantedSet.Contains(slot.Endpoint))
                {
                    slot.Desired = false;
                    stopping.Add((slot.Cancel, slot.Holder));
                }
            }

            foreach (PodEndpoint endpoint in wanted)
            {
                if (_slots.TryGetValue(endpoint, out Slot? slot))
                {
                    if (!slot.Desired)
                    {
                        // Back before its old connection finished closing: the same loop reconnects once it has.
                        slot.Desired = true;
                        slot.Cancel = new CancellationTokenSource();
                    }
                }
                else
                {
                    slot = new Slot(endpoint);
                    _slots.Add(endpoint, slot);
                    _loops.RemoveAll(static t => t.IsCompleted);
                    _loops.Add(RunSlotAsync(slot));
                }
            }
        }

        Stop(stopping, ConnectionCloseReason.Removed);
    }

    private static void Stop(List<(CancellationTokenSource Cancel, ConnectionHolder<TConnection>? Holder)> stopping, ConnectionCloseReason reason)
    {
        // Outside the lock: cancellation runs continuations inline.
        foreach ((CancellationTokenSource cancel, ConnectionHolder<TConnection>? holder) in stopping)
        {
            cancel.Cancel();
            holder?.Retire(reason);
        }
    }

    private void PublishLocked()
    {
        var holders = _slots.Values.Where(s => s.Holder is not null).Select(s => s.Holder!).OrderBy(h => h.Endpoint).ToArray();
        Volatile.Write(ref _published, new Published(
            [.. holders.Select(h => h.Public)],
            holders.ToFrozenDictionary(h => h.Endpoint)));
        Interlocked.Exchange(ref _changed, NewSignal()).TrySetResult();
    }

    private void Raise(ConnectionSetChange<TConnection> change)
    {
        try
        {
            Changed?.Invoke(this, change);
        }
#pragma warning disable CA1031 // A subscriber's bug must not stop the connection loop.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            ConnectionSetLog.HandlerFailed(_logger, _service.Name.Value, ex);
        }
    }

    private async Task CloseAsync(ConnectionHolder<TConnection> holder)
    {
        try
        {
            await _close(holder.Connection).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // A failing close is logged; the slot must still move on.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            ConnectionSetLog.CloseFailed(_logger, _service.Name.Value, holder.Endpoint.Key, ex);
        }
    }

    private static async ValueTask DefaultClose(TConnection connection)
    {
        switch (connection)
        {
            case IAsyncDisposable asyncDisposable:
                await asyncDisposable.DisposeAsync().ConfigureAwait(false);
                break;
            case IDisposable disposable:
                disposable.Dispose();
                break;
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed record Published(ImmutableArray<PodConnection<TConnection>> Connections, FrozenDictionary<PodEndpoint, ConnectionHolder<TConnection>> ByEndpoint);
}
