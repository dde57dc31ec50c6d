using System.Buffers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Headless.Discovery.Testing;

/// <summary>
/// How a <see cref="LoopbackPod"/> serves one accepted connection, by protocol: raw TCP echo, or one HTTP/1.1 request
/// answered with the pod's identity; both follow the pod's <see cref="LoopbackPod.Behavior"/> as read per request.
/// </summary>
internal static class PodConnection
{
    private const int MaxRequestHeadBytes = 16 * 1024;
    private static readonly byte[] HeadTerminator = "\r\n\r\n"u8.ToArray();

    /// <summary>Echoes what the client sends, one read at a time, as the pod's behavior says.</summary>
    public static async Task ServeTcpAsync(LoopbackPod pod, Socket client, Action countRequest, CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        while (true)
        {
            var read = await client.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return;
            }

            countRequest();
            var behavior = pod.Behavior;
            switch (behavior.Kind)
            {
                case PodBehaviorKind.Reset:
                    Abort(client);
                    return;
                case PodBehaviorKind.Hang:
                    continue;
            }

            if (behavior.Delay > TimeSpan.Zero)
            {
                await Task.Delay(behavior.Delay, cancellationToken).ConfigureAwait(false);
            }

            await client.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Answers one HTTP/1.1 request (then closes) with the pod's identity as JSON, as the pod's behavior says.</summary>
    public static async Task ServeHttpAsync(LoopbackPod pod, Socket client, Action countRequest, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(MaxRequestHeadBytes);
        try
        {
            var length = 0;
            int headEnd;
            while ((headEnd = buffer.AsSpan(0, length).IndexOf(HeadTerminator)) < 0)
            {
                if (length == MaxRequestHeadBytes)
                {
                    await SendAsync(client, BuildResponse(pod, 431, "HEAD", "/"), cancellationToken).ConfigureAwait(false);
                    return;
                }

                var read = await client.ReceiveAsync(buffer.AsMemory(length, MaxRequestHeadBytes - length), SocketFlags.None, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return;
                }

                length += read;
            }

            countRequest();
            var requestLine = Encoding.ASCII.GetString(buffer, 0, buffer.AsSpan(0, headEnd + 2).IndexOf("\r\n"u8));
            var parts = requestLine.Split(' ');
            var method = parts.Length == 3 ? parts[0] : "GET";
            var path = parts.Length == 3 ? parts[1] : "/";
            var behavior = pod.Behavior;
            switch (behavior.Kind)
            {
                case PodBehaviorKind.Reset:
                    Abort(client);
                    return;
                case PodBehaviorKind.Hang:
                    // Read and discard until the client gives up or the pod stops.
                    while (await client.ReceiveAsync(buffer.AsMemory(0, MaxRequestHeadBytes), SocketFlags.None, cancellationToken).ConfigureAwait(false) > 0)
                    {
                    }

                    return;
            }

            if (behavior.Delay > TimeSpan.Zero)
            {
                await Task.Delay(behavior.Delay, cancellationToken).ConfigureAwait(false);
            }

            var statusCode = parts.Length == 3 ? behavior.StatusCode : 400;
            await SendAsync(client, BuildResponse(pod, statusCode, method, path), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task SendAsync(Socket client, byte[] response, CancellationToken cancellationToken)
    {
        await client.SendAsync(response, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        client.Shutdown(SocketShutdown.Send);
    }

    private static byte[] BuildResponse(LoopbackPod pod, int statusCode, string method, string path)
    {
        var body = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(body))
        {
            json.WriteStartObject();
            json.WriteString("pod", pod.Name);
            json.WriteString("address", pod.Address.ToString());
            json.WriteNumber("port", pod.Port);
            json.WriteString("method", method);
            json.WriteString("path", path);
            json.WriteEndObject();
        }

        var sendBody = !string.Equals(method, "HEAD", StringComparison.OrdinalIgnoreCase);
        var head = $"HTTP/1.1 {statusCode} {ReasonPhrase(statusCode)}\r\n" +
                   "Content-Type: application/json\r\n" +
                   $"Content-Length: {body.WrittenCount}\r\n" +
                   $"X-Pod-Name: {pod.Name}\r\n" +
                   "Connection: close\r\n\r\n";
        var headBytes = Encoding.ASCII.GetBytes(head);
        return sendBody ? [.. headBytes, .. body.WrittenSpan] : headBytes;
    }

    private static string ReasonPhrase(int statusCode) => statusCode switch
    {
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        404 => "Not Found",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    };

    /// <summary>Closes <paramref name="client"/> with a reset.</summary>
    public static void Abort(Socket client)
    {
        // Linger 0 makes Close send RST instead of FIN.
        client.LingerState = new LingerOption(true, 0);
        client.Close();
    }
}
