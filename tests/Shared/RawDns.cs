using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Headless.Discovery.TestSupport;

/// <summary>
/// A minimal DNS client, independent of the code under test: one query over UDP or over a TCP connection the test
/// holds (left open, as a client that reuses its connection does), returning the raw header (TC bit, response code,
/// answer count) that DnsClient hides behind an exception; and an A-record count for readiness checks.
/// </summary>
internal static class RawDns
{
    /// <summary>How long one query may take when the caller gives no token of its own.</summary>
    private static readonly TimeSpan QueryGuard = TimeSpan.FromSeconds(60);

    public sealed record Header(bool Truncated, int ResponseCode, int AnswerCount, int Length);

    /// <summary>Sends one query over UDP to <paramref name="server"/> and reads its answer.</summary>
    public static async Task<Header> QueryUdpAsync(IPEndPoint server, string name, ushort type, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(QueryGuard);
        using var socket = new Socket(server.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        await socket.SendToAsync(DnsWire.Query(name, type), SocketFlags.None, server, timeout.Token);
        var buffer = new byte[65536];
        int length = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
        return Read(buffer.AsSpan(0, length));
    }

    /// <summary>Sends one query over <paramref name="connection"/> (a connected TCP socket, left open) and reads the whole length-prefixed answer.</summary>
    public static async Task<Header> QueryTcpAsync(Socket connection, string name, ushort type, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(QueryGuard);
        await connection.SendAsync(DnsWire.Framed(DnsWire.Query(name, type)), SocketFlags.None, timeout.Token);
        var prefix = new byte[2];
        await ReadExactlyAsync(connection, prefix, timeout.Token);
        var answer = new byte[BinaryPrimitives.ReadUInt16BigEndian(prefix)];
        await ReadExactlyAsync(connection, answer, timeout.Token);
        return Read(answer);
    }

    /// <summary>
    /// The number of A records for <paramref name="name"/> (0 for NXDOMAIN/NODATA): one UDP query, retried over TCP when
    /// truncated, within one second.
    /// </summary>
    /// <exception cref="TimeoutException">No answer within the second.</exception>
    public static async Task<int> CountARecordsAsync(IPEndPoint server, string name, CancellationToken cancellationToken)
    {
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        attempt.CancelAfter(TimeSpan.FromSeconds(1));
        try
        {
            Header header = await QueryUdpAsync(server, name, DnsWire.A, attempt.Token);
            if (header.Truncated)
            {
                using var tcp = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                await tcp.ConnectAsync(server, attempt.Token);
                header = await QueryTcpAsync(tcp, name, DnsWire.A, attempt.Token);
            }

            return header.ResponseCode == 0 ? header.AnswerCount : 0;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException("no DNS answer within a second");
        }
    }

    private static Header Read(ReadOnlySpan<byte> message) => new(
        Truncated: (message[2] & 0x02) != 0,
        ResponseCode: message[3] & 0x0F,
        AnswerCount: BinaryPrimitives.ReadUInt16BigEndian(message[6..]),
        Length: message.Length);

    private static async Task ReadExactlyAsync(Socket connection, byte[] buffer, CancellationToken cancellationToken)
    {
        if (!await DnsWire.ReadExactlyAsync(connection, buffer, cancellationToken))
        {
            throw new EndOfStreamException($"The server closed the connection before {buffer.Length} bytes arrived.");
        }
    }
}
