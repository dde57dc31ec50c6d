using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Headless.Discovery.TestSupport;

namespace Headless.Discovery.Tests.Reliability;

/// <summary>
/// A UDP "DNS server" on loopback that answers with whatever bytes a test builds, including malformed ones
/// (garbage, wrong ids, foreign names, CNAME loops). Only for fault injection the embedded server cannot express.
/// With a TCP answer function it also listens on TCP on the same port and counts the connections it accepted and the
/// ones the client closed.
/// </summary>
internal sealed class RawDnsServer : IAsyncDisposable
{
    private readonly Socket _udp;
    private readonly Socket? _tcp;
    private readonly Func<byte[], byte[]?> _answer;
    private readonly Func<byte[], byte[]?>? _tcpAnswer;
    private readonly bool _closeAfterTcpAnswer;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly Task _tcpLoop = Task.CompletedTask;
    private readonly List<Task> _connections = [];
    private readonly object _gate = new();
    private readonly List<(int Count, TaskCompletionSource Done)> _closeWaiters = [];
    private int _queries;
    private int _tcpQueries;
    private int _accepted;
    private int _closedByClient;

    /// <param name="answer">The UDP answer to a query, or <see langword="null"/> for none.</param>
    /// <param name="tcpAnswer">
    /// When set, also listen on TCP: the bytes to write back for a query (the test writes the two-byte length prefix
    /// itself, so it can lie), or <see langword="null"/> to never answer and wait for the client to close.
    /// </param>
    /// <param name="closeAfterTcpAnswer">Close each TCP connection right after writing the answer (a server that hangs up).</param>
    public RawDnsServer(Func<byte[], byte[]?> answer, Func<byte[], byte[]?>? tcpAnswer = null, bool closeAfterTcpAnswer = false)
    {
        _answer = answer;
        _tcpAnswer = tcpAnswer;
        _closeAfterTcpAnswer = closeAfterTcpAnswer;
        for (int attempt = 0; ; attempt++)
        {
            _udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            _udp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            EndPoint = (IPEndPoint)_udp.LocalEndPoint!;
            if (tcpAnswer is null)
            {
                break;
            }

            _tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                _tcp.Bind(EndPoint);
                _tcp.Listen(16);
                break;
            }
            catch (SocketException) when (attempt < 20)
            {
                // The TCP port of that number is taken: try another pair.
                _tcp.Dispose();
                _udp.Dispose();
            }
        }

        _loop = Task.Run(LoopAsync);
        if (_tcp is not null)
        {
            _tcpLoop = Task.Run(AcceptLoopAsync);
        }
    }

    public IPEndPoint EndPoint { get; }

    public string NameServer => EndPoint.ToString();

    public int Queries => Volatile.Read(ref _queries);

    /// <summary>Queries received over TCP.</summary>
    public int TcpQueries => Volatile.Read(ref _tcpQueries);

    /// <summary>TCP connections accepted.</summary>
    public int TcpConnectionsAccepted => Volatile.Read(ref _accepted);

    /// <summary>TCP connections the client closed (end of stream or reset seen by the server; not those the server hung up).</summary>
    public int TcpConnectionsClosedByClient => Volatile.Read(ref _closedByClient);

    /// <summary>Completes once the client has closed <paramref name="count"/> TCP connections.</summary>
    public Task WaitForClientClosesAsync(int count)
    {
        lock (_gate)
        {
            if (_closedByClient >= count)
            {
                return Task.CompletedTask;
            }

            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _closeWaiters.Add((count, done));
            return done.Task;
        }
    }

    private async Task LoopAsync()
    {
        var buffer = new byte[65535];
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _udp.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), _stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }

            Interlocked.Increment(ref _queries);
            byte[] query = buffer.AsSpan(0, received.ReceivedBytes).ToArray();
            byte[]? response = _answer(query);
            if (response is not null)
            {
                await _udp.SendToAsync(response, SocketFlags.None, received.RemoteEndPoint);
            }
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _tcp!.AcceptAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }

            Interlocked.Increment(ref _accepted);
            lock (_gate)
            {
                _connections.Add(ServeAsync(client));
            }
        }
    }

    private async Task ServeAsync(Socket client)
    {
        using (client)
        {
            try
            {
                var prefix = new byte[2];
                while (await ReadExactlyAsync(client, prefix))
                {
                    var query = new byte[BinaryPrimitives.ReadUInt16BigEndian(prefix)];
                    if (!await ReadExactlyAsync(client, query))
                    {
                        break;
                    }

                    Interlocked.Increment(ref _tcpQueries);
                    byte[]? response = _tcpAnswer!(query);
                    if (response is not null)
                    {
                        await client.SendAsync(response, SocketFlags.None, _stop.Token);
                    }

                    if (_closeAfterTcpAnswer)
                    {
                        return;
                    }
                }
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                // A reset is a close too.
            }

            lock (_gate)
            {
                _closedByClient++;
                for (int i = _closeWaiters.Count - 1; i >= 0; i--)
                {
                    if (_closedByClient >= _closeWaiters[i].Count)
                    {
                        _closeWaiters[i].Done.TrySetResult();
                        _closeWaiters.RemoveAt(i);
                    }
                }
            }
        }
    }

    /// <summary>Fills <paramref name="buffer"/>; <see langword="false"/> when the client closed first.</summary>
    private Task<bool> ReadExactlyAsync(Socket client, byte[] buffer) => DnsWire.ReadExactlyAsync(client, buffer, _stop.Token);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _udp.Dispose();
        _tcp?.Dispose();
        Task[] connections;
        lock (_gate)
        {
            connections = [.. _connections];
        }

        try
        {
            await Task.WhenAll([_loop, _tcpLoop, .. connections]);
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }
}
