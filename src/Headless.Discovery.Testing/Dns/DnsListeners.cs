using System.Net;
using System.Net.Sockets;
using ARSoft.Tools.Net;
using ARSoft.Tools.Net.Dns;

namespace Headless.Discovery.Testing;

/// <summary>
/// The embedded server's UDP and TCP listeners on one end point, each an ARSoft <c>DnsServer</c> over its transport,
/// all handing queries to one handler. The TCP one can be closed and re-opened. Not thread-safe: the server calls it
/// under its lock (except <see cref="StopAll"/>, which takes the listeners first).
/// </summary>
internal sealed class DnsListeners(IPEndPoint endPoint, AsyncEventHandler<QueryReceivedEventArgs> onQuery)
{
    private const int TransportTimeoutMilliseconds = 5000;
    private const int TcpKeepAliveMilliseconds = 10_000;

    private Listener? _udp;
    private Listener? _tcp;

    public bool TcpOpen => _tcp is not null;

    /// <summary>Opens both listeners.</summary>
    /// <exception cref="SocketException">A port is in use.</exception>
    public void Start()
    {
        _udp = Open(new UdpServerTransport(endPoint, TransportTimeoutMilliseconds));
        _tcp = Open(NewTcpTransport());
    }

    /// <summary>Opens or closes the TCP listener (closing also ends the connections clients keep open).</summary>
    public void SetTcpOpen(bool open)
    {
        if (open && _tcp is null)
        {
            _tcp = Open(NewTcpTransport());
        }
        else if (!open && _tcp is not null)
        {
            StopQuietly(_tcp);
            _tcp = null;
        }
    }

    /// <summary>Takes both listeners away (under the lock), then stops them (outside it).</summary>
    public void StopAll(Lock gate)
    {
        Listener? udp, tcp;
        lock (gate)
        {
            (udp, tcp) = (_udp, _tcp);
            (_udp, _tcp) = (null, null);
        }

        StopQuietly(udp);
        StopQuietly(tcp);
    }

    private TcpDnsTransport NewTcpTransport() => new(endPoint, TransportTimeoutMilliseconds, TcpKeepAliveMilliseconds);

    private Listener Open(IServerTransport transport)
    {
        var server = new DnsServer(transport);
        server.QueryReceived += onQuery;
        try
        {
            server.Start();
        }
        catch
        {
            server.QueryReceived -= onQuery;
            transport.Dispose();
            throw;
        }

        return new Listener(server, transport);
    }

    private void StopQuietly(Listener? listener)
    {
        if (listener is null)
        {
            return;
        }

        listener.Server.QueryReceived -= onQuery;
        try
        {
            listener.Server.Stop();
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or AggregateException)
        {
            // Stopping a listener whose socket is already gone is fine.
        }
        finally
        {
            // DnsServer.Stop does not reliably close the socket in ARSoft 3.6.1; disposing the transport does.
            listener.Transport.Dispose();
        }
    }

    private sealed record Listener(DnsServer Server, IServerTransport Transport);
}
