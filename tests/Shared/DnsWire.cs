using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Headless.Discovery.TestSupport;

/// <summary>Builds DNS queries and responses byte by byte (RFC 1035), so tests can also build wrong ones.</summary>
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

    /// <summary>A recursive query for <paramref name="name"/> of <paramref name="type"/> (class IN), id 0x1234.</summary>
    public static byte[] Query(string name, ushort type)
    {
        var query = new List<byte> { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0 };
        query.AddRange(Name(name));
        query.AddRange([(byte)(type >> 8), (byte)type, 0, 1]);
        return [.. query];
    }

    /// <summary>Fills <paramref name="buffer"/> from <paramref name="socket"/>; <see langword="false"/> when the peer closed first.</summary>
    public static async Task<bool> ReadExactlyAsync(Socket socket, byte[] buffer, CancellationToken cancellationToken)
    {
        for (int read = 0; read < buffer.Length;)
        {
            int n = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, cancellationToken);
            if (n == 0)
            {
                return false;
            }

            read += n;
        }

        return true;
    }

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
