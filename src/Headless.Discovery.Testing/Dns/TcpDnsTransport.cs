using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using ARSoft.Tools.Net.Dns;

namespace Headless.Discovery.Testing;

/// <summary>
/// DNS over TCP for <see cref="EmbeddedDnsServer"/>, in place of ARSoft's <c>TcpServerTransport</c>: every socket read
/// is awaited, never abandoned, and closing the transport closes the connections it accepted.
/// </summary>
/// <remarks>
/// ARSoft 3.6.1 races each read against its timeout and the server's token with <c>WaitAsync</c> and leaves the read
/// behind: when the server stops, the read a client's open connection was waiting in ends in an
/// <see cref="OperationCanceledException"/> nobody observes, and the connection stays open until the garbage collector
/// closes it. Here the timeout and the server's token cancel the read itself. Thread-safe.
/// </remarks>
internal sealed class TcpDnsTransport : IServerTransport
{
    private readonly TcpListener _listener;
    private readonly int _timeoutMilliseconds;
    private readonly int _keepAliveMilliseconds;
    private readonly ConcurrentDictionary<Connection, byte> _connections = new();
    private volatile bool _closed;

    /// <summary>Creates the transport; <see cref="Bind"/> starts listening.</summary>
    /// <param name="endPoint">Where to listen.</param>
    /// <param name="timeoutMilliseconds">How long the rest of a query may take once its first bytes arrived.</param>
    /// <param name="keepAliveMilliseconds">How long a connection may wait for its next query.</param>
    public TcpDnsTransport(IPEndPoint endPoint, int timeoutMilliseconds, int keepAliveMilliseconds)
    {
        _listener = new TcpListener(endPoint);
        _timeoutMilliseconds = timeoutMilliseconds;
        _keepAliveMilliseconds = keepAliveMilliseconds;
    }

    public ushort DefaultAllowedResponseSize => ushort.MaxValue;

    public bool SupportsMultipleResponses => true;

    public bool AllowTruncatedResponses => false;

    public TransportProtocol TransportProtocol => TransportProtocol.Tcp;

    public void Bind() => _listener.Start();

    /// <summary>Stops listening and closes every accepted connection, so clients see it at once. Idempotent.</summary>
    public void Close()
    {
        _closed = true;
        _listener.Stop();
        foreach (Connection connection in _connections.Keys)
        {
            connection.Dispose();
        }
    }

    public void Dispose() => Close();

    public async Task<IServerConnection?> AcceptConnectionAsync(CancellationToken token = default)
    {
        TcpClient client;
        try
        {
            client = await _listener.AcceptTcpClientAsync(token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // Stopped, or one failed accept: ARSoft's accept loop checks its token and calls again.
            return null;
        }

        var connection = new Connection(this, client);
        _connections[connection] = 0;
        if (_closed)
        {
            // Accepted while Close ran: it may have missed this one.
            connection.Dispose();
        }

        return connection;
    }

    private sealed class Connection : IServerConnection
    {
        private readonly TcpDnsTransport _transport;
        private readonly TcpClient _client;
        private readonly NetworkStream _stream;
        private readonly SemaphoreSlim _writeLock = new(1, 1);
        private int _disposed;

        public Connection(TcpDnsTransport transport, TcpClient client)
        {
            _transport = transport;
            _client = client;
            _client.NoDelay = true;
            _stream = client.GetStream();
            RemoteEndPoint = (IPEndPoint)client.Client.RemoteEndPoint!;
            LocalEndPoint = (IPEndPoint)client.Client.LocalEndPoint!;
        }

        public IServerTransport Transport => _transport;

        public IPEndPoint RemoteEndPoint { get; }

        public IPEndPoint LocalEndPoint { get; }

        public bool CanRead => Volatile.Read(ref _disposed) == 0;

        public Task<bool> InitializeAsync(CancellationToken token = default) => Task.FromResult(true);

        public async Task<DnsReceivedRawPackage?> ReceiveAsync(CancellationToken token = default)
        {
            var prefix = new byte[DnsRawPackage.LENGTH_HEADER_LENGTH];
            if (!await TryReadAsync(prefix, _transport._keepAliveMilliseconds, token).ConfigureAwait(false))
            {
                return null;
            }

            var buffer = new byte[DnsRawPackage.LENGTH_HEADER_LENGTH + BinaryPrimitives.ReadUInt16BigEndian(prefix)];
            prefix.CopyTo(buffer, 0);
            if (!await TryReadAsync(buffer.AsMemory(prefix.Length), _transport._timeoutMilliseconds, token).ConfigureAwait(false))
            {
                return null;
            }

            try
            {
                return new DnsReceivedRawPackage(buffer, RemoteEndPoint, LocalEndPoint);
            }
            catch (Exception ex) when (ex is ArgumentException or IndexOutOfRangeException)
            {
                // Not a DNS message: a client speaking something else gets its connection closed.
                Dispose();
                return null;
            }
        }

        /// <summary>
        /// Fills <paramref name="buffer"/>, or returns <see langword="false"/> when the client hung up, the time ran out,
        /// or the server stopped. The read is awaited in every case, so nothing is left to fault unobserved.
        /// </summary>
        private async Task<bool> TryReadAsync(Memory<byte> buffer, int timeoutMilliseconds, CancellationToken token)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
            timeout.CancelAfter(timeoutMilliseconds);
            try
            {
                for (int read = 0; read < buffer.Length;)
                {
                    int count = await _stream.ReadAsync(buffer[read..], timeout.Token).ConfigureAwait(false);
                    if (count == 0)
                    {
                        Dispose();
                        return false;
                    }

                    read += count;
                }

                return true;
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
            {
                // An idle or slow client only stops being read, as with ARSoft's own transport (an answer may still be
                // on its way); a stopping server or a broken connection closes it.
                if (token.IsCancellationRequested || ex is not OperationCanceledException)
                {
                    Dispose();
                }

                return false;
            }
        }

        public async Task<bool> SendAsync(DnsRawPackage package, CancellationToken token = default)
        {
            // ARSoft answers pipelined queries concurrently; interleaved writes would corrupt both answers.
            try
            {
                await _writeLock.WaitAsync(token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return false;
            }

            try
            {
                await _stream.WriteAsync(package.ToArraySegment(includeLengthHeader: true), token).ConfigureAwait(false);
                return true;
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
            {
                return false;
            }
            finally
            {
                _writeLock.Release();
            }
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
            {
                return;
            }

            _transport._connections.TryRemove(this, out _);
            _client.Dispose();
        }
    }
}
