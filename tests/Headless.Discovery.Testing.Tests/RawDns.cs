using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Headless.Discovery.Testing.Tests;

/// <summary>
/// A deliberately tiny, library-independent UDP query, so tests can see the raw header (TC bit, counts) that
/// DnsClient hides behind an exception when TCP fallback is off.
/// </summary>
internal static class RawDns
{
    public sealed record Header(bool Truncated, int ResponseCode, int AnswerCount, int Length);

    public static async Task<Header> QueryUdpAsync(IPEndPoint server, string name, ushort type)
    {
        var query = new List<byte> { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0 };
        foreach (var label in name.TrimEnd('.').Split('.'))
        {
            query.Add((byte)label.Length);
            query.AddRange(Encoding.ASCII.GetBytes(label));
        }

        query.AddRange([0, (byte)(type >> 8), (byte)type, 0, 1]);
        using var socket = new Socket(server.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        using var timeout = new CancellationTokenSource(DnsTestClient.Generous);
        await socket.SendToAsync(query.ToArray(), SocketFlags.None, server, timeout.Token);
        var buffer = new byte[65536];
        var length = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
        return new Header(
            Truncated: (buffer[2] & 0x02) != 0,
            ResponseCode: buffer[3] & 0x0F,
            AnswerCount: BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(6)),
            Length: length);
    }
}
