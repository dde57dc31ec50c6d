using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using DnsClient;

namespace Headless.Discovery;

/// <summary>
/// One DNS query over TCP (RFC 1035 section 4.2.2, RFC 7766), asked when the UDP answer came back truncated. Each query
/// opens a connection of its own and closes it when the query ends, whether answered, failed, timed out or cancelled.
/// </summary>
/// <remarks>
/// <para>
/// Nothing is kept between queries, for two reasons. An answer must never come from a connection older than the data it
/// asks about: dnsmasq (which kube-dns ran in front of its DNS) serves each TCP connection from a child process forked
/// when the connection was accepted, holding the records of that moment, so a reused connection keeps answering with
/// the member list from before a change. And no connection may be held between rounds: servers cap their TCP
/// connections (dnsmasq serves at most 20), and idle ones held by many services starve the rest.
/// </para>
/// <para>
/// DnsClient's own TCP fallback is therefore not used: DnsClient 1.8 pools TCP connections per server, reuses one for up
/// to 5 s after it was opened and leaves idle ones open until their next use, with no option to turn that off.
/// </para>
/// <para>Stateless and thread-safe: one process-wide transport can call it for every service.</para>
/// </remarks>
internal static class DnsTcpQuery
{
    private const int HeaderLength = 12;
    private const ushort RecursionDesired = 0x0100;

    /// <summary>Asks <paramref name="server"/> for <paramref name="name"/>/<paramref name="type"/> over a new TCP connection.</summary>
    /// <returns>The parsed answer, whatever its response code.</returns>
    /// <exception cref="IOException">The connection failed or was closed before the whole answer arrived (worth another attempt).</exception>
    /// <exception cref="DnsResponseParseException">The answer is malformed or answers another query.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (the connection is closed).</exception>
    public static async Task<IDnsQueryResponse> QueryAsync(
        NameServer server,
        IPEndPoint endPoint,
        string name,
        QueryType type,
        DnsQuerySettings settings,
        CancellationToken cancellationToken)
    {
        // The id only pairs the answer with the query; TCP's handshake already keeps blind spoofers out.
        ushort id = (ushort)RandomNumberGenerator.GetInt32(0x10000);
        byte[] request = FramedQuery(id, name, type);
        byte[] message;
        using (var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true })
        {
            try
            {
                await socket.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
                for (int sent = 0; sent < request.Length;)
                {
                    sent += await socket.SendAsync(request.AsMemory(sent), SocketFlags.None, cancellationToken).ConfigureAwait(false);
                }

                byte[] prefix = new byte[2];
                await ReceiveExactlyAsync(socket, prefix, endPoint, "the answer's length", cancellationToken).ConfigureAwait(false);
                message = new byte[BinaryPrimitives.ReadUInt16BigEndian(prefix)];
                await ReceiveExactlyAsync(socket, message, endPoint, "the answer", cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException ex)
            {
                // An operation aborted by the token is a cancellation (for Polly: its attempt timeout), not a transport error.
                cancellationToken.ThrowIfCancellationRequested();
                throw new IOException($"the UDP answer was truncated and the TCP query to {Format(endPoint)} failed: {ex.Message}", ex);
            }
        }

        // Closed before parsing: the connection is gone whatever the answer turns out to be.
        return DnsTcpAnswer.Read(message, id, name, type, server, settings);
    }

    /// <summary>A query message with its two-byte length prefix: header (id, RD, one question), then the question.</summary>
    internal static byte[] FramedQuery(ushort id, string name, QueryType type)
    {
        ReadOnlySpan<char> trimmed = name.AsSpan().TrimEnd('.');

        // Each label is a length byte and its characters; the root is one zero byte.
        int nameLength = trimmed.Length == 0 ? 1 : trimmed.Length + 2;
        byte[] buffer = new byte[2 + HeaderLength + nameLength + 4];
        Span<byte> span = buffer;
        BinaryPrimitives.WriteUInt16BigEndian(span, (ushort)(buffer.Length - 2));
        BinaryPrimitives.WriteUInt16BigEndian(span[2..], id);
        BinaryPrimitives.WriteUInt16BigEndian(span[4..], RecursionDesired);
        BinaryPrimitives.WriteUInt16BigEndian(span[6..], 1);

        int at = 2 + HeaderLength;
        foreach (Range label in trimmed.Split('.'))
        {
            ReadOnlySpan<char> text = trimmed[label];
            if (text.Length is 0 or > 63 || !Ascii.IsValid(text))
            {
                throw new ArgumentException($"'{name}' cannot be sent as a DNS name: every label must be 1 to 63 ASCII characters.", nameof(name));
            }

            span[at++] = (byte)text.Length;
            at += Encoding.ASCII.GetBytes(text, span[at..]);
        }

        span[at++] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(span[at..], (ushort)type);
        BinaryPrimitives.WriteUInt16BigEndian(span[(at + 2)..], (ushort)QueryClass.IN);
        return buffer;
    }

    private static async Task ReceiveExactlyAsync(Socket socket, byte[] buffer, IPEndPoint endPoint, string what, CancellationToken cancellationToken)
    {
        for (int received = 0; received < buffer.Length;)
        {
            int read = await socket.ReceiveAsync(buffer.AsMemory(received), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                throw new IOException(string.Create(
                    CultureInfo.InvariantCulture,
                    $"the UDP answer was truncated and {Format(endPoint)} closed the TCP connection after {received} of the {buffer.Length} bytes of {what}"));
            }

            received += read;
        }
    }

    private static string Format(IPEndPoint endPoint) =>
        endPoint.AddressFamily == AddressFamily.InterNetworkV6
            ? string.Create(CultureInfo.InvariantCulture, $"[{endPoint.Address}]:{endPoint.Port}")
            : string.Create(CultureInfo.InvariantCulture, $"{endPoint.Address}:{endPoint.Port}");
}
