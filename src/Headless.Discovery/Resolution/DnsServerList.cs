using System.Globalization;
using System.Net;
using System.Net.Sockets;
using DnsClient;

namespace Headless.Discovery;

/// <summary>
/// Which name servers a resolver asks: the configured ones (each once, in order), else the system's (resolv.conf),
/// never a public fallback; and how they are named in logs and errors (<c>ip:port</c>, <c>[ipv6]:port</c>).
/// </summary>
internal static class DnsServerList
{
    /// <summary>The servers of <paramref name="options"/> (already validated), or the system's; empty when there are none.</summary>
    public static List<NameServer> Resolve(DnsEndpointResolverOptions options)
    {
        var servers = new List<NameServer>();
        if (options.DnsServers.Count > 0)
        {
            foreach (string text in options.DnsServers)
            {
                // Validate() has already checked every entry.
                if (DnsEndpointResolverOptions.TryParseDnsServer(text, out IPEndPoint? endPoint))
                {
                    AddUnique(servers, new NameServer(endPoint));
                }
            }

            return servers;
        }

        try
        {
            foreach (NameServer server in NameServer.ResolveNameServers(skipIPv6SiteLocal: true, fallbackToGooglePublicDns: false))
            {
                AddUnique(servers, server);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // No system configuration readable: the resolver logs and fails each round instead of guessing public DNS.
        }

        return servers;
    }

    /// <summary>The server as <c>ip:port</c> (<c>[ipv6]:port</c>).</summary>
    public static string Format(NameServer server) =>
        IPAddress.TryParse(server.Address, out IPAddress? address)
            ? FormatEndPoint(new IPEndPoint(address, server.Port))
            : server.ToString();

    private static string FormatEndPoint(IPEndPoint endPoint) =>
        endPoint.AddressFamily == AddressFamily.InterNetworkV6
            ? string.Create(CultureInfo.InvariantCulture, $"[{endPoint.Address}]:{endPoint.Port}")
            : string.Create(CultureInfo.InvariantCulture, $"{endPoint.Address}:{endPoint.Port}");

    private static void AddUnique(List<NameServer> list, NameServer server)
    {
        if (!list.Any(s => s.Equals(server)))
        {
            list.Add(server);
        }
    }
}
