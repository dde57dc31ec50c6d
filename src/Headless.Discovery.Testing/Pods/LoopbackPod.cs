using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Headless.Discovery.Testing;

/// <summary>The protocol a <see cref="LoopbackPod"/> speaks.</summary>
public enum LoopbackPodProtocol
{
    /// <summary>Raw TCP: echoes what it reads.</summary>
    Tcp = 0,

    /// <summary>HTTP/1.1: answers every request with a small JSON body naming the pod, then closes the connection.</summary>
    Http = 1,
}

/// <summary>
/// A fake pod: a real TCP listener on its own loopback address whose behaviour can be switched at runtime
/// (healthy, another HTTP status, hang, reset, slow), stopped (connections refused) and restarted on the same
/// address and port. No ASP.NET Core: HTTP is a minimal HTTP/1.1 responder on a raw socket.
/// </summary>
/// <remarks>
/// <para>
/// HTTP pods answer any method and path with <c>Connection: close</c> and the JSON body
/// <c>{"pod":"&lt;name&gt;","address":"&lt;ip&gt;","port":&lt;port&gt;,"method":"GET","path":"/x"}</c> (no body for
/// <c>HEAD</c>), plus an <c>X-Pod-Name</c> header. Request heads larger than 16 KiB get 431.
/// </para>
/// <para>All members are thread-safe. Delays use real time.</para>
/// </remarks>
public sealed class LoopbackPod : IAsyncDisposable
{
    private static readonly TimeSpan StopDrainTimeout = TimeSpan.FromSeconds(5);

    private readonly SemaphoreSlim _lifecycle = new(1, 1);
    private readonly ConcurrentDictionary<Socket, byte> _connections = new();
    private readonly List<(int Count, TaskCompletionSource Completion)> _connectionWaiters = [];
    private readonly ConcurrentDictionary<Task, byte> _handlers = new();
    private PodBehavior _behavior = PodBehavior.Healthy;
    private Socket? _listener;
    private CancellationTokenSource? _runCts;
    private Task _acceptLoop = Task.CompletedTask;
    private readonly List<(long Count, TaskCompletionSource Completion)> _requestWaiters = [];
    private long _requests;
    private long _accepted;
    private bool _disposed;

    private LoopbackPod(IPAddress address, int port, string name, LoopbackPodProtocol protocol)
    {
        Address = address;
        Port = port;
        Name = name;
        Protocol = protocol;
    }

    /// <summary>The pod's name, e.g. <c>web-0</c>; defaults to <c>pod-&lt;address&gt;</c> with dots as dashes.</summary>
    public string Name { get; }

    /// <summary>The loopback address the pod listens on.</summary>
    public IPAddress Address { get; }

    /// <summary>The port the pod listens on (the one picked when it was started with port 0). Stays the same across restarts.</summary>
    public int Port { get; private set; }

    /// <summary><see cref="Address"/> and <see cref="Port"/> together.</summary>
    public IPEndPoint EndPoint => new(Address, Port);

    /// <summary>Whether the pod speaks raw TCP (echo) or HTTP.</summary>
    public LoopbackPodProtocol Protocol { get; }

    /// <summary>
    /// How the pod answers. Default <see cref="PodBehavior.Healthy"/>. Read when a connection is accepted and again
    /// when each request (or TCP read) arrives, so switching takes effect for requests already on their way.
    /// </summary>
    /// <exception cref="ArgumentNullException">The value is null.</exception>
    public PodBehavior Behavior
    {
        get => Volatile.Read(ref _behavior);
        set => Volatile.Write(ref _behavior, value ?? throw new ArgumentNullException(nameof(value)));
    }

    /// <summary>Whether the listener is open (between start and <see cref="StopAsync"/>).</summary>
    public bool IsRunning => Volatile.Read(ref _listener) is not null;

    /// <summary>HTTP requests received (full request heads), or reads received by a TCP pod; counted before the behaviour applies. Never reset.</summary>
    public long RequestCount => Interlocked.Read(ref _requests);

    /// <summary>Connections accepted since the pod was created. Never reset.</summary>
    public long AcceptedConnections => Interlocked.Read(ref _accepted);

    /// <summary>Connections currently open (accepted and not yet closed by either side).</summary>
    public int OpenConnections => _connections.Count;

    /// <summary>
    /// Waits until <see cref="RequestCount"/> reaches <paramref name="count"/> (completes at once if it has), so tests
    /// can wait for a request to arrive without polling.
    /// </summary>
    /// <param name="count">The request count to wait for. Default 1.</param>
    /// <param name="cancellationToken">Cancels the wait; use it (or <see cref="Task.WaitAsync(TimeSpan)"/>) as the timeout.</param>
    /// <returns>A task that completes when enough requests have arrived.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is not positive.</exception>
    public Task WaitForRequestsAsync(long count = 1, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        lock (_requestWaiters)
        {
            if (RequestCount >= count)
            {
                return Task.CompletedTask;
            }

            var completion = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _requestWaiters.Add((count, completion));
            return completion.Task.WaitAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Waits until <see cref="OpenConnections"/> equals <paramref name="count"/> (completes at once if it does), so tests
    /// can wait for the pod to see a client connect or close without polling.
    /// </summary>
    /// <param name="count">The number of open connections to wait for (0 or more).</param>
    /// <param name="cancellationToken">Cancels the wait; use it (or <see cref="Task.WaitAsync(TimeSpan)"/>) as the timeout.</param>
    /// <returns>A task that completes when the pod has exactly <paramref name="count"/> open connections.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative.</exception>
    public Task WaitForOpenConnectionsAsync(int count, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        lock (_connectionWaiters)
        {
            if (_connections.Count == count)
            {
                return Task.CompletedTask;
            }

            var completion = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _connectionWaiters.Add((count, completion));
            return completion.Task.WaitAsync(cancellationToken);
        }
    }

    private void NotifyConnectionWaiters()
    {
        lock (_connectionWaiters)
        {
            int open = _connections.Count;
            for (int i = _connectionWaiters.Count - 1; i >= 0; i--)
            {
                if (_connectionWaiters[i].Count == open)
                {
                    _connectionWaiters[i].Completion.TrySetResult();
                    _connectionWaiters.RemoveAt(i);
                }
            }
        }
    }

    /// <summary>Starts a raw TCP pod that echoes what it reads.</summary>
    /// <param name="address">The address to listen on, normally from <see cref="LoopbackAddressPool.Next()"/>.</param>
    /// <param name="port">The port, or 0 (the default) to pick a free one.</param>
    /// <param name="name">The pod name, or <see langword="null"/> for <c>pod-&lt;address&gt;</c>.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running pod; dispose it to stop it.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="port"/> is outside 0 to 65535.</exception>
    /// <exception cref="SocketException">The address and port cannot be bound.</exception>
    public static Task<LoopbackPod> StartTcpAsync(IPAddress address, int port = 0, string? name = null, CancellationToken cancellationToken = default) =>
        StartNewAsync(address, port, name, LoopbackPodProtocol.Tcp, cancellationToken);

    /// <summary>Starts an HTTP/1.1 pod that answers every request with its <see cref="Behavior"/>.</summary>
    /// <param name="address">The address to listen on, normally from <see cref="LoopbackAddressPool.Next()"/>.</param>
    /// <param name="port">The port, or 0 (the default) to pick a free one.</param>
    /// <param name="name">The pod name, or <see langword="null"/> for <c>pod-&lt;address&gt;</c>.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running pod; dispose it to stop it.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="port"/> is outside 0 to 65535.</exception>
    /// <exception cref="SocketException">The address and port cannot be bound.</exception>
    public static Task<LoopbackPod> StartHttpAsync(IPAddress address, int port = 0, string? name = null, CancellationToken cancellationToken = default) =>
        StartNewAsync(address, port, name, LoopbackPodProtocol.Http, cancellationToken);

    /// <summary>
    /// (Re)starts the listener on the same address and port, e.g. after <see cref="StopAsync"/>. Does nothing if the
    /// pod is running.
    /// </summary>
    /// <param name="cancellationToken">Cancels waiting for a concurrent start or stop.</param>
    /// <returns>A task that completes when the pod accepts connections.</returns>
    /// <exception cref="ObjectDisposedException">The pod is disposed.</exception>
    /// <exception cref="SocketException">The port was taken by another socket meanwhile.</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_listener is not null)
            {
                return;
            }

            var listener = new Socket(Address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                if (!OperatingSystem.IsWindows())
                {
                    // Lets a restarted pod rebind while connections it closed are in TIME_WAIT (on Windows the option means port stealing).
                    listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                }

                listener.Bind(new IPEndPoint(Address, Port));
                listener.Listen(512);
            }
            catch
            {
                listener.Dispose();
                throw;
            }

            Port = ((IPEndPoint)listener.LocalEndPoint!).Port;
            var cts = new CancellationTokenSource();
            _runCts = cts;
            Volatile.Write(ref _listener, listener);
            _acceptLoop = AcceptLoopAsync(listener, cts.Token);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>
    /// Closes the listener and every open connection: later connects are refused until <see cref="StartAsync"/>.
    /// Waits (up to 5 seconds) for connection handlers to finish. Does nothing if the pod is stopped.
    /// </summary>
    /// <param name="cancellationToken">Cancels waiting for a concurrent start or stop.</param>
    /// <returns>A task that completes when the pod is stopped.</returns>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        await _lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await StopCoreAsync().ConfigureAwait(false);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>Stops the pod (see <see cref="StopAsync"/>). Idempotent.</summary>
    /// <returns>A task that completes when the pod is stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        await _lifecycle.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            await StopCoreAsync().ConfigureAwait(false);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Name} ({Protocol} {Address}:{Port}, {(IsRunning ? "running" : "stopped")})";

    private static async Task<LoopbackPod> StartNewAsync(IPAddress address, int port, string? name, LoopbackPodProtocol protocol, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, IPEndPoint.MaxPort);
        if (name is not null)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(name);
        }

        var pod = new LoopbackPod(address, port, name ?? "pod-" + address.ToString().Replace('.', '-').Replace(':', '-'), protocol);
        await pod.StartAsync(cancellationToken).ConfigureAwait(false);
        return pod;
    }

    private async Task StopCoreAsync()
    {
        var listener = Interlocked.Exchange(ref _listener, null);
        if (listener is null)
        {
            return;
        }

        var cts = _runCts!;
        _runCts = null;
        await cts.CancelAsync().ConfigureAwait(false);
        listener.Dispose();
        foreach (var connection in _connections.Keys)
        {
            connection.Dispose();
        }

        try
        {
            await Task.WhenAll([_acceptLoop, .. _handlers.Keys]).WaitAsync(StopDrainTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A handler stuck beyond the drain timeout has lost its socket already; it ends on its own.
        }

        cts.Dispose();
    }

    private async Task AcceptLoopAsync(Socket listener, CancellationToken cancellationToken)
    {
        // Yield so that StartAsync returns before the first accept completes, to the thread pool: never to the caller's
        // synchronization context, whose thread (a test framework's worker, a UI thread) may be busy or blocked.
        await Task.CompletedTask.ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            Interlocked.Increment(ref _accepted);
            _connections.TryAdd(client, 0);
            NotifyConnectionWaiters();
            var handler = HandleConnectionAsync(client, cancellationToken);
            _handlers.TryAdd(handler, 0);
            _ = handler.ContinueWith(
                static (t, state) => ((ConcurrentDictionary<Task, byte>)state!).TryRemove(t, out _),
                _handlers,
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }
    }

    private async Task HandleConnectionAsync(Socket client, CancellationToken cancellationToken)
    {
        // Handlers never throw: every socket error means the peer or StopAsync closed the connection.
        await Task.CompletedTask.ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
        try
        {
            if (Behavior.Kind == PodBehaviorKind.Reset)
            {
                PodConnection.Abort(client);
                return;
            }

            if (Protocol == LoopbackPodProtocol.Http)
            {
                await PodConnection.ServeHttpAsync(this, client, CountRequest, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await PodConnection.ServeTcpAsync(this, client, CountRequest, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException or IOException)
        {
            // Connection closed by the peer or by StopAsync.
        }
        finally
        {
            _connections.TryRemove(client, out _);
            client.Dispose();
            NotifyConnectionWaiters();
        }
    }

    private void CountRequest()
    {
        var count = Interlocked.Increment(ref _requests);
        lock (_requestWaiters)
        {
            for (var i = _requestWaiters.Count - 1; i >= 0; i--)
            {
                if (_requestWaiters[i].Count <= count)
                {
                    _requestWaiters[i].Completion.TrySetResult();
                    _requestWaiters.RemoveAt(i);
                }
            }
        }
    }
}
