using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Headless.Discovery.Testing.Tests;

/// <summary>
/// Deliberately tiny, library-independent UDP and TCP queries, so tests can see the raw header (TC bit, counts) that
/// DnsClient hides behind an exception when TCP fallback is off, and hold a TCP connection open the way they choose.
/// </summary>
internal static class RawDns
{
    public sealed record Header(bool Truncated, int ResponseCode, int AnswerCount, int Length);

    public static async Task<Header> QueryUdpAsync(IPEndPoint server, string name, ushort type)
    {
        var query = BuildQuery(name, type);
        using var socket = new Socket(server.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        using var timeout = new CancellationTokenSource(Generous);
        await socket.SendToAsync(query, SocketFlags.None, server, timeout.Token);
        var buffer = new byte[65536];
        var length = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
        return new Header(
            Truncated: (buffer[2] & 0x02) != 0,
            ResponseCode: buffer[3] & 0x0F,
            AnswerCount: BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(6)),
            Length: length);
    }

    /// <summary>
    /// Sends one query over <paramref name="connection"/> (a connected TCP socket, left open, as a client that reuses
    /// its connection does) and reads the whole length-prefixed answer.
    /// </summary>
    public static async Task<Header> QueryTcpAsync(Socket connection, string name, ushort type)
    {
        var query = BuildQuery(name, type);
        var framed = new byte[query.Length + 2];
        BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)query.Length);
        query.CopyTo(framed, 2);
        using var timeout = new CancellationTokenSource(Generous);
        await connection.SendAsync(framed, SocketFlags.None, timeout.Token);
        var prefix = new byte[2];
        await ReadExactlyAsync(connection, prefix, timeout.Token);
        var answer = new byte[BinaryPrimitives.ReadUInt16BigEndian(prefix)];
        await ReadExactlyAsync(connection, answer, timeout.Token);
        return new Header(
            Truncated: (answer[2] & 0x02) != 0,
            ResponseCode: answer[3] & 0x0F,
            AnswerCount: BinaryPrimitives.ReadUInt16BigEndian(answer.AsSpan(6)),
            Length: answer.Length);
    }

    private static async Task ReadExactlyAsync(Socket connection, byte[] buffer, CancellationToken cancellationToken)
    {
        for (var read = 0; read < buffer.Length;)
        {
            var n = await connection.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, cancellationToken);
            if (n == 0)
            {
                throw new EndOfStreamException($"The server closed the connection after {read} of {buffer.Length} bytes.");
            }

            read += n;
        }
    }

    private static byte[] BuildQuery(string name, ushort type)
    {
        var query = new List<byte> { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0 };
        foreach (var label in name.TrimEnd('.').Split('.'))
        {
            query.Add((byte)label.Length);
            query.AddRange(Encoding.ASCII.GetBytes(label));
        }

        query.AddRange([0, (byte)(type >> 8), (byte)type, 0, 1]);
        return [.. query];
    }
}
