using System.Globalization;
using System.Net;

namespace Headless.Discovery.TestSupport;

/// <summary>
/// The TCP sockets this process holds to a server, read from Linux's <c>/proc</c>: the socket inodes behind
/// <c>/proc/self/fd</c>, matched against <c>/proc/net/tcp</c> and <c>/proc/net/tcp6</c>. Only sockets an open file
/// descriptor of this process owns count, so the server's own end (another process, e.g. dnsmasq) and sockets this
/// process already closed (lingering in FIN_WAIT or TIME_WAIT in the kernel) do not.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal static class ProcessTcpConnections
{
    /// <summary>
    /// Describes each socket of this process whose remote end is <paramref name="server"/>'s port (any loopback
    /// address), in any state: <c>"127.0.0.1:40112 -> 127.0.0.1:5353 ESTABLISHED"</c>. Empty when there is none.
    /// </summary>
    public static IReadOnlyList<string> To(IPEndPoint server)
    {
        HashSet<string> inodes = OwnSocketInodes();
        var found = new List<string>();
        foreach (string table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            if (!File.Exists(table))
            {
                continue;
            }

            foreach (string line in File.ReadLines(table).Skip(1))
            {
                // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
                string[] columns = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (columns.Length < 10 || !inodes.Contains(columns[9]))
                {
                    continue;
                }

                (string remoteAddress, int remotePort) = ParseEndPoint(columns[2]);
                if (remotePort != server.Port)
                {
                    continue;
                }

                (string localAddress, int localPort) = ParseEndPoint(columns[1]);
                found.Add(string.Create(CultureInfo.InvariantCulture, $"{localAddress}:{localPort} -> {remoteAddress}:{remotePort} {StateName(columns[3])}"));
            }
        }

        return found;
    }

    private static HashSet<string> OwnSocketInodes()
    {
        var inodes = new HashSet<string>(StringComparer.Ordinal);
        foreach (string fd in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            string? target;
            try
            {
                target = new FileInfo(fd).LinkTarget;
            }
            catch (IOException)
            {
                // Closed while we looked: not held any more.
                continue;
            }

            if (target is not null && target.StartsWith("socket:[", StringComparison.Ordinal) && target.EndsWith(']'))
            {
                inodes.Add(target["socket:[".Length..^1]);
            }
        }

        return inodes;
    }

    /// <summary>Reads <c>0100007F:14E9</c> (IPv4, little-endian words) or a 32-digit IPv6 address and a port, both hex.</summary>
    private static (string Address, int Port) ParseEndPoint(string text)
    {
        int colon = text.IndexOf(':', StringComparison.Ordinal);
        string hex = text[..colon];
        int port = int.Parse(text[(colon + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        byte[] bytes = Convert.FromHexString(hex);

        // The kernel prints each 32-bit word in host (little-endian) order.
        for (int word = 0; word < bytes.Length; word += 4)
        {
            Array.Reverse(bytes, word, 4);
        }

        var address = new IPAddress(bytes);
        return (address.IsIPv4MappedToIPv6 ? address.MapToIPv4().ToString() : address.ToString(), port);
    }

    private static string StateName(string hex) => hex switch
    {
        "01" => "ESTABLISHED",
        "02" => "SYN_SENT",
        "04" => "FIN_WAIT1",
        "05" => "FIN_WAIT2",
        "06" => "TIME_WAIT",
        "07" => "CLOSE",
        "08" => "CLOSE_WAIT",
        "09" => "LAST_ACK",
        "0A" => "LISTEN",
        "0B" => "CLOSING",
        _ => "state " + hex,
    };
}
