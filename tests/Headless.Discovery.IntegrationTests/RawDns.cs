using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Headless.Discovery.IntegrationTests;

/// <summary>
/// A minimal DNS client for the fixture's readiness checks, independent of the code under test: one A query over UDP,
/// retried over TCP when truncated; returns the answer count (0 for NXDOMAIN/NODATA).
/// </summary>
internal static class RawDns
{
    public static async Task<int> CountARecordsAsync(IPEndPoint server, string name, CancellationToken cancellationToken)
    {
        byte[] query = BuildQuery(name);
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        attempt.CancelAfter(TimeSpan.FromSeconds(1));

        using (var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        {
            await udp.ConnectAsync(server, attempt.Token);
            await udp.SendAsync(query, SocketFlags.None, attempt.Token);
            byte[] buffer = new byte[4096];
            int received;
            try
            {
                received = await udp.ReceiveAsync(buffer, SocketFlags.None, attempt.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException("no UDP answer");
            }

            bool truncated = (buffer[2] & 0x02) != 0;
            if (!truncated)
            {
                return Count(buffer.AsSpan(0, received));
            }
        }

        using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await tcp.ConnectAsync(server, attempt.Token);
        byte[] framed = new byte[query.Length + 2];
        BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)query.Length);
        query.CopyTo(framed, 2);
        await tcp.SendAsync(framed, SocketFlags.None, attempt.Token);
        byte[] lengthBytes = new byte[2];
        await ReadExactlyAsync(tcp, lengthBytes, attempt.Token);
        byte[] message = new byte[BinaryPrimitives.ReadUInt16BigEndian(lengthBytes)];
        await ReadExactlyAsync(tcp, message, attempt.Token);
        return Count(message);
    }

    private static int Count(ReadOnlySpan<byte> message)
    {
        int rcode = message[3] & 0x0F;
        return rcode == 0 ? BinaryPrimitives.ReadUInt16BigEndian(message[6..]) : 0;
    }

    private static async Task ReadExactlyAsync(Socket socket, byte[] buffer, CancellationToken cancellationToken)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, cancellationToken);
            if (n == 0)
            {
                throw new IOException("connection closed");
            }

            read += n;
        }
    }

    private static byte[] BuildQuery(string name)
    {
        var bytes = new List<byte> { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0 };
        foreach (string label in name.TrimEnd('.').Split('.'))
        {
            bytes.Add((byte)label.Length);
            bytes.AddRange(System.Text.Encoding.ASCII.GetBytes(label));
        }

        bytes.AddRange(new byte[] { 0, 0, 1, 0, 1 });
        return bytes.ToArray();
    }
}
