using System.Net.Sockets;

namespace Headless.Discovery;

/// <summary>
/// Probes a pod by opening a TCP connection to its address and port and closing it at once: the pod is healthy when the
/// connection is accepted. Like a Kubernetes <c>tcpSocket</c> probe.
/// </summary>
/// <remarks>
/// The connection is closed with a reset (linger 0), as HAProxy does for its checks, so thousands of probes a second
/// leave no sockets in TIME_WAIT. A pod without a port (port 0) fails the probe. Thread-safe and stateless.
/// </remarks>
internal sealed class TcpConnectProbe : IEndpointProbe
{
    /// <inheritdoc/>
    public async ValueTask<ProbeResult> ProbeAsync(PodEndpoint endpoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (endpoint.Port == 0)
        {
            return ProbeResult.Unhealthy("the endpoint has no port (set a port, or resolve SRV records)");
        }

        using var socket = new Socket(endpoint.Address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endpoint.EndPoint, cancellationToken).ConfigureAwait(false);
            socket.LingerState = new LingerOption(true, 0);
            return ProbeResult.Healthy();
        }
        catch (SocketException ex)
        {
            return ProbeResult.Failed(ex);
        }
    }

    /// <summary>Returns <c>tcp</c>.</summary>
    public override string ToString() => "tcp";
}
