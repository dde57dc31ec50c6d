using Headless.Discovery.TestSupport;
using System.Collections.Concurrent;
using System.Net.Sockets;
using Headless.Discovery;
using Headless.Discovery.Testing;
using Headless.Discovery.Tests.Selection;

namespace Headless.Discovery.Tests.Connections;

/// <summary>ConnectionSet against real loopback TCP (echo) pods coming and going; sockets are counted on both sides.</summary>
public sealed class ConnectionSetTests : IAsyncLifetime
{
    private readonly List<LoopbackPod> _pods = [];
    private readonly FakeHeadlessService _service = new();
    private readonly ConcurrentDictionary<PodEndpoint, int> _openPerPod = new();
    private int _maxOpenPerPod;
    private int _opened;
    private int _closed;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (LoopbackPod pod in _pods)
        {
            await pod.DisposeAsync();
        }
    }

    private async Task<LoopbackPod[]> StartPodsAsync(int count)
    {
        var started = new LoopbackPod[count];
        for (int i = 0; i < count; i++)
        {
            started[i] = await LoopbackPod.StartTcpAsync(LoopbackAddressPool.Next());
            _pods.Add(started[i]);
        }

        return started;
    }

    private static PodEndpoint EndpointOf(LoopbackPod pod) => new(pod.Address, pod.Port);

    private void Publish(IEnumerable<LoopbackPod> pods) => _service.Publish(pods.Select(EndpointOf));

    /// <summary>Connects, then proves the pod accepted the socket with one echo round trip.</summary>
    private async ValueTask<TestConnection> ConnectAsync(PodEndpoint endpoint, CancellationToken cancellationToken)
    {
        var socket = new Socket(endpoint.Address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(endpoint.EndPoint, cancellationToken);
            await socket.SendAsync("p"u8.ToArray(), SocketFlags.None, cancellationToken);
            var buffer = new byte[1];
            if (await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken) != 1)
            {
                throw new IOException("no echo");
            }
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        Interlocked.Increment(ref _opened);
        int open = _openPerPod.AddOrUpdate(endpoint, 1, (_, n) => n + 1);
        AtomicMax.Raise(ref _maxOpenPerPod, open);
        return new TestConnection(endpoint, socket, this);
    }

    private sealed class TestConnection(PodEndpoint endpoint, Socket socket, ConnectionSetTests owner) : IAsyncDisposable
    {
        private int _disposed;

        public PodEndpoint Endpoint => endpoint;

        public bool IsDisposed => Volatile.Read(ref _disposed) == 1;

        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                socket.Dispose();
                owner._openPerPod.AddOrUpdate(endpoint, 0, (_, n) => n - 1);
                Interlocked.Increment(ref owner._closed);
            }

            return ValueTask.CompletedTask;
        }
    }

    private ConnectionSet<TestConnection> Create(ConnectionSetOptions? options = null) =>
        new(_service, ConnectAsync, options: options ?? new ConnectionSetOptions { InitialBackoff = TimeSpan.FromMilliseconds(10), MaxBackoff = TimeSpan.FromMilliseconds(100), ConnectTimeout = TimeSpan.FromSeconds(5) });

    /// <summary>Waits (bounded) until the pod itself has seen the expected number of open connections.</summary>
    private static async Task ServerSideClosedAsync(LoopbackPod pod, int expectedOpen = 0)
    {
        await pod.WaitForOpenConnectionsAsync(expectedOpen).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(expectedOpen, pod.OpenConnections);
    }

    private async Task<ConnectionSetChange<TestConnection>> NextChangeAsync(ConnectionSet<TestConnection> set, Func<ConnectionSetChange<TestConnection>, bool> match, Func<Task> action)
    {
        var seen = new TaskCompletionSource<ConnectionSetChange<TestConnection>>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Handler(object? sender, ConnectionSetChange<TestConnection> change)
        {
            if (match(change))
            {
                seen.TrySetResult(change);
            }
        }

        set.Changed += Handler;
        try
        {
            await action();
            return await seen.Task.WaitAsync(Generous);
        }
        finally
        {
            set.Changed -= Handler;
        }
    }

    [Fact]
    public async Task Keeps_exactly_one_connection_per_pod_as_pods_come_and_go()
    {
        LoopbackPod[] pods = await StartPodsAsync(4);
        Publish(pods[..3]);
        await using ConnectionSet<TestConnection> set = Create();

        await set.WaitAsync(c => c.Length >= 3).AsTask().WaitAsync(Generous);
        Assert.Equal(pods[..3].Select(EndpointOf).Order(), set.Connections.Select(c => c.Endpoint));
        Assert.All(pods[..3], p => Assert.Equal(1, p.OpenConnections));

        // Scale up: pod 3 joins.
        Publish(pods);
        await set.WaitAsync(c => c.Length == 4).AsTask().WaitAsync(Generous);
        Assert.Equal(1, pods[3].OpenConnections);

        // Scale down: pod 0 leaves; its socket is closed on both ends.
        ConnectionSetChange<TestConnection> removed = await NextChangeAsync(set, c => !c.IsConnected, () =>
        {
            Publish(pods[1..]);
            return Task.CompletedTask;
        });
        Assert.Equal(EndpointOf(pods[0]), removed.Endpoint);
        Assert.Equal(ConnectionCloseReason.Removed, removed.Reason);
        await set.WaitAsync(c => c.Length == 3).AsTask().WaitAsync(Generous);
        await ServerSideClosedAsync(pods[0]);
        Assert.False(set.TryAcquire(EndpointOf(pods[0]), out _));

        Assert.Equal(1, Volatile.Read(ref _maxOpenPerPod));
        Assert.All(pods, p => Assert.Equal(1, p.AcceptedConnections));
    }

    /// <summary>
    /// A set built and started on a thread whose synchronization context never runs posted work (a UI thread blocked on
    /// <c>.Result</c>, a test framework's busy worker) still connects: its slots run on the thread pool, and nothing is
    /// posted to the caller's context.
    /// </summary>
    [Fact]
    public async Task A_set_started_under_a_busy_synchronization_context_still_connects()
    {
        LoopbackPod[] pods = await StartPodsAsync(2);
        Publish(pods);
        var held = new HeldSynchronizationContext();
        ConnectionSet<TestConnection> set = held.Run(() =>
        {
            ConnectionSet<TestConnection> built = Create();
            built.Start();
            return built;
        });
        try
        {
            await set.WaitAsync(c => c.Length == 2).AsTask().WaitAsync(Generous);
            Assert.Equal(0, held.Posted);
        }
        finally
        {
            // Lets anything that was held finish, so the set can be disposed.
            held.Release();
            await set.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_removed_pods_connection_closes_only_after_its_in_flight_use_ends()
    {
        LoopbackPod[] pods = await StartPodsAsync(2);
        Publish(pods);
        await using ConnectionSet<TestConnection> set = Create();
        await set.WaitAsync(c => c.Length >= 2).AsTask().WaitAsync(Generous);

        Assert.True(set.TryAcquire(EndpointOf(pods[1]), out ConnectionLease<TestConnection> lease));
        TestConnection inUse = lease.Connection;
        Publish(pods[..1]);
        await set.WaitAsync(c => c.Length == 1).AsTask().WaitAsync(Generous);

        // Out of the set, but not closed under its user.
        Assert.False(inUse.IsDisposed);
        Assert.Equal(1, pods[1].OpenConnections);
        Assert.False(set.TryAcquire(EndpointOf(pods[1]), out _));

        lease.Dispose();
        await ServerSideClosedAsync(pods[1]);
        Assert.True(inUse.IsDisposed);
    }

    [Fact]
    public async Task A_broken_connection_is_replaced_after_the_old_one_is_closed()
    {
        LoopbackPod[] pods = await StartPodsAsync(1);
        Publish(pods);
        await using ConnectionSet<TestConnection> set = Create();
        await set.WaitAsync(c => c.Length >= 1).AsTask().WaitAsync(Generous);
        TestConnection first = set.Connections[0].Connection;

        ConnectionSetChange<TestConnection> reconnected = await NextChangeAsync(set, c => c.IsConnected, () =>
        {
            Assert.True(set.TryAcquire(EndpointOf(pods[0]), out ConnectionLease<TestConnection> lease));
            lease.MarkBroken();
            lease.Dispose();
            return Task.CompletedTask;
        });

        Assert.NotSame(first, reconnected.Connection);
        Assert.True(first.IsDisposed);
        Assert.Equal(2, pods[0].AcceptedConnections);
        await ServerSideClosedAsync(pods[0], expectedOpen: 1);
        Assert.Equal(1, Volatile.Read(ref _maxOpenPerPod));
        Assert.Same(reconnected.Connection, set.Connections[0].Connection);
    }

    [Fact]
    public async Task A_pod_that_refuses_connections_is_retried_with_backoff_until_it_accepts()
    {
        LoopbackPod[] pods = await StartPodsAsync(2);
        await pods[1].StopAsync();
        Publish(pods);
        await using ConnectionSet<TestConnection> set = Create();
        await set.WaitAsync(c => c.Length >= 1).AsTask().WaitAsync(Generous);
        Assert.Equal(EndpointOf(pods[0]), Assert.Single(set.Connections).Endpoint);

        await pods[1].StartAsync();
        await set.WaitAsync(c => c.Length >= 2).AsTask().WaitAsync(Generous);
        Assert.Equal(1, pods[1].OpenConnections);
    }

    [Fact]
    public async Task Options_changed_after_the_set_is_built_have_no_effect()
    {
        LoopbackPod[] pods = await StartPodsAsync(2);
        _service.Publish(pods.Select(p => (EndpointOf(p), EndpointHealth.Healthy, false)));
        var options = new ConnectionSetOptions();
        await using ConnectionSet<TestConnection> set = new(_service, ConnectAsync, options: options);
        await set.WaitAsync(c => c.Length >= 2).AsTask().WaitAsync(Generous);

        options.IncludeUnhealthy = true;
        options.MaxBackoff = TimeSpan.Zero;
        _service.Publish(pods.Select(p => (EndpointOf(p), p == pods[0] ? EndpointHealth.Unhealthy : EndpointHealth.Healthy, false)));
        await set.WaitAsync(c => c.Length == 1).AsTask().WaitAsync(Generous);
        await ServerSideClosedAsync(pods[0]);
    }

    [Theory]
    [InlineData("ConnectTimeout")]
    [InlineData("InitialBackoff")]
    public void Connect_timeouts_and_backoff_below_the_floor_are_refused(string option)
    {
        var options = new ConnectionSetOptions();
        typeof(ConnectionSetOptions).GetProperty(option)!.SetValue(options, TimeSpan.FromTicks(1));
        InvalidOptionsException ex = Assert.Throws<InvalidOptionsException>(options.Validate);
        Assert.Contains(option, ex.Message, StringComparison.Ordinal);
        Assert.Contains("floor", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unavailable_pods_lose_their_connection_unless_included()
    {
        LoopbackPod[] pods = await StartPodsAsync(2);
        _service.Publish(pods.Select(p => (EndpointOf(p), EndpointHealth.Healthy, false)));
        await using ConnectionSet<TestConnection> set = Create();
        await set.WaitAsync(c => c.Length >= 2).AsTask().WaitAsync(Generous);

        _service.Publish(pods.Select(p => (EndpointOf(p), p == pods[0] ? EndpointHealth.Unhealthy : EndpointHealth.Healthy, false)));
        await set.WaitAsync(c => c.Length == 1).AsTask().WaitAsync(Generous);
        await ServerSideClosedAsync(pods[0]);

        await using ConnectionSet<TestConnection> all = new(_service, ConnectAsync, options: new ConnectionSetOptions { IncludeUnhealthy = true });
        await all.WaitAsync(c => c.Length >= 2).AsTask().WaitAsync(Generous);
    }

    [Fact]
    public async Task Churn_with_concurrent_users_leaks_no_socket_and_never_doubles_a_connection()
    {
        LoopbackPod[] pods = await StartPodsAsync(6);
        Publish(pods);
        var random = new Random(1234);
        ConnectionSet<TestConnection> set = Create();
        await set.WaitAsync(c => c.Length >= 6).AsTask().WaitAsync(Generous);
        IEndpointSelector selector = EndpointSelectors.RoundRobin(_service);

        using var stop = new CancellationTokenSource();
        var used = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int uses = 0;
        Task[] users = [.. Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
        {
            for (int i = 0; i < 1_000_000 && !stop.IsCancellationRequested; i++)
            {
                if (set.TryAcquire(selector, out ConnectionLease<TestConnection> lease))
                {
                    using (lease)
                    {
                        Assert.False(lease.Connection.IsDisposed);
                        Interlocked.Increment(ref uses);
                        used.TrySetResult();
                        if (i % 50 == 0)
                        {
                            lease.MarkBroken();
                        }

                        await Task.Yield();
                    }
                }
                else
                {
                    await Task.Yield();
                }
            }
        }))];

        // The churn starts once the users are really using connections (on a busy machine their tasks start late).
        await used.Task.WaitAsync(Generous);
        for (int round = 0; round < 30; round++)
        {
            LoopbackPod[] members = [.. pods.Where(_ => random.Next(3) > 0)];
            Publish(members);
            await set.WaitAsync(c => c.Select(x => x.Endpoint).SequenceEqual(members.Select(EndpointOf).Order())).AsTask().WaitAsync(Generous);
        }

        await stop.CancelAsync();
        await Task.WhenAll(users).WaitAsync(Generous);
        await set.DisposeAsync().AsTask().WaitAsync(Generous);

        Assert.True(uses > 0);
        Assert.Empty(set.Connections);
        Assert.Equal(Volatile.Read(ref _opened), Volatile.Read(ref _closed));
        Assert.Equal(1, Volatile.Read(ref _maxOpenPerPod));
        foreach (LoopbackPod pod in pods)
        {
            await ServerSideClosedAsync(pod);
        }
    }

    [Fact]
    public async Task Dispose_closes_every_connection_and_waits_for_in_flight_use()
    {
        LoopbackPod[] pods = await StartPodsAsync(2);
        Publish(pods);
        ConnectionSet<TestConnection> set = Create();
        await set.WaitAsync(c => c.Length >= 2).AsTask().WaitAsync(Generous);
        Assert.True(set.TryAcquire(EndpointOf(pods[0]), out ConnectionLease<TestConnection> lease));

        Task disposing = set.DisposeAsync().AsTask();
        await ServerSideClosedAsync(pods[1]);
        Assert.False(disposing.IsCompleted);
        Assert.False(lease.Connection.IsDisposed);

        lease.Dispose();
        await disposing.WaitAsync(Generous);
        await ServerSideClosedAsync(pods[0]);
        Assert.Equal(_opened, _closed);
        Assert.Throws<ObjectDisposedException>(set.Start);
    }

    [Fact]
    public void Options_are_validated_with_messages_naming_the_option()
    {
        var ex = Assert.Throws<InvalidOptionsException>(() => Create(new ConnectionSetOptions { ConnectTimeout = TimeSpan.Zero }));
        Assert.Contains("ConnectTimeout: ", ex.Message, StringComparison.Ordinal);
        ex = Assert.Throws<InvalidOptionsException>(() => Create(new ConnectionSetOptions { InitialBackoff = TimeSpan.FromSeconds(2), MaxBackoff = TimeSpan.FromSeconds(1) }));
        Assert.Contains("MaxBackoff: ", ex.Message, StringComparison.Ordinal);
    }
}
