using System.Net;
using System.Net.Sockets;

namespace Headless.Discovery.Testing;

/// <summary>Finds a port free for both TCP and UDP on a loopback address, for a server that answers on both.</summary>
internal static class DnsPortProbe
{
    /// <summary>How many ports to try before giving up (another process may take a probed port before the bind).</summary>
    public const int Attempts = 20;

    /// <summary>A port whose TCP and UDP twins were both free a moment ago.</summary>
    /// <exception cref="SocketException">No such port was found after <see cref="Attempts"/> tries.</exception>
    public static int FindFreePort(IPAddress address)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var probe = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            probe.Bind(new IPEndPoint(address, 0));
            var port = ((IPEndPoint)probe.LocalEndPoint!).Port;
            try
            {
                using var udpProbe = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
                udpProbe.Bind(new IPEndPoint(address, port));
                return port;
            }
            catch (SocketException) when (attempt < Attempts)
            {
                // The TCP port is free but its UDP twin is taken: probe another one.
            }
        }
    }
}
