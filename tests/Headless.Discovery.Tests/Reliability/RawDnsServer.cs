using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

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
    private async Task<bool> ReadExactlyAsync(Socket client, byte[] buffer)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n = await client.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, _stop.Token);
            if (n == 0)
            {
                return false;
            }

            read += n;
        }

        return true;
    }

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

/// <summary>Builds DNS responses byte by byte (RFC 1035), so tests can also build wrong ones.</summary>
internal static class DnsWire
{
    public const ushort A = 1;
    public const ushort Cname = 5;
    public const ushort Aaaa = 28;

    public static ushort Id(byte[] query) => BinaryPrimitives.ReadUInt16BigEndian(query);

    /// <summary>The question section of <paramref name="query"/> (name + type + class).</summary>
    public static ReadOnlySpan<byte> Question(byte[] query)
    {
        int i = 12;
        while (query[i] != 0)
        {
            i += query[i] + 1;
        }

        return query.AsSpan(12, i + 1 + 4 - 12);
    }

    public static ushort QuestionType(byte[] query)
    {
        ReadOnlySpan<byte> q = Question(query);
        return BinaryPrimitives.ReadUInt16BigEndian(q[^4..]);
    }

    public static byte[] Name(string name)
    {
        var bytes = new List<byte>();
        foreach (string label in name.TrimEnd('.').Split('.'))
        {
            bytes.Add((byte)label.Length);
            bytes.AddRange(Encoding.ASCII.GetBytes(label));
        }

        bytes.Add(0);
        return bytes.ToArray();
    }

    public static byte[] Record(byte[] owner, ushort type, uint ttl, byte[] data)
    {
        var r = new byte[owner.Length + 10 + data.Length];
        owner.CopyTo(r, 0);
        int o = owner.Length;
        BinaryPrimitives.WriteUInt16BigEndian(r.AsSpan(o), type);
        BinaryPrimitives.WriteUInt16BigEndian(r.AsSpan(o + 2), 1);
        BinaryPrimitives.WriteUInt32BigEndian(r.AsSpan(o + 4), ttl);
        BinaryPrimitives.WriteUInt16BigEndian(r.AsSpan(o + 8), (ushort)data.Length);
        data.CopyTo(r, o + 10);
        return r;
    }

    /// <summary>An A record owned by the question's name (a compression pointer to offset 12).</summary>
    public static byte[] ARecord(string address, uint ttl = 30, string? owner = null) =>
        Record(owner is null ? [0xC0, 0x0C] : Name(owner), A, ttl, IPAddress.Parse(address).GetAddressBytes());

    public static byte[] AaaaRecord(string address, uint ttl = 30, string? owner = null) =>
        Record(owner is null ? [0xC0, 0x0C] : Name(owner), Aaaa, ttl, IPAddress.Parse(address).GetAddressBytes());

    public static byte[] CnameRecord(string owner, string target, uint ttl = 30) => Record(Name(owner), Cname, ttl, Name(target));

    /// <summary>An empty NOERROR response with the TC bit set: "too large for UDP, ask again over TCP".</summary>
    public static byte[] Truncated(byte[] query)
    {
        byte[] response = Response(query);
        response[2] |= 0x02;
        return response;
    }

    /// <summary><paramref name="message"/> framed for TCP: a two-byte big-endian length, then the message (RFC 1035 4.2.2).</summary>
    public static byte[] Framed(byte[] message)
    {
        var framed = new byte[message.Length + 2];
        BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)message.Length);
        message.CopyTo(framed, 2);
        return framed;
    }

    /// <summary>A response to <paramref name="query"/>: same id and question, the given records as answers.</summary>
    public static byte[] Response(byte[] query, int rcode = 0, ushort? id = null, params byte[][] answers)
    {
        ReadOnlySpan<byte> question = Question(query);
        var message = new List<byte>(512);
        var header = new byte[12];
        BinaryPrimitives.WriteUInt16BigEndian(header, id ?? Id(query));
        header[2] = (byte)(0x84 | (query[2] & 0x01)); // QR, AA, keep RD
        header[3] = (byte)(0x80 | (rcode & 0x0F)); // RA
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(4), 1);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(6), (ushort)answers.Length);
        message.AddRange(header);
        message.AddRange(question.ToArray());
        foreach (byte[] a in answers)
        {
            message.AddRange(a);
        }

        return message.ToArray();
    }
}
