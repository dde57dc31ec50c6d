using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Headless.Discovery.Tests.Reliability;

/// <summary>
/// A UDP "DNS server" on loopback that answers with whatever bytes a test builds, including malformed ones
/// (garbage, wrong ids, foreign names, CNAME loops). Only for fault injection the embedded server cannot express.
/// </summary>
internal sealed class RawDnsServer : IAsyncDisposable
{
    private readonly Socket _udp;
    private readonly Func<byte[], byte[]?> _answer;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _queries;

    public RawDnsServer(Func<byte[], byte[]?> answer)
    {
        _answer = answer;
        _udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _udp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        EndPoint = (IPEndPoint)_udp.LocalEndPoint!;
        _loop = Task.Run(LoopAsync);
    }

    public IPEndPoint EndPoint { get; }

    public string NameServer => EndPoint.ToString();

    public int Queries => Volatile.Read(ref _queries);

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

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _udp.Dispose();
        try
        {
            await _loop;
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
