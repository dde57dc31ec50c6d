using System.Collections.Immutable;
using System.Globalization;
using System.Net.Sockets;

namespace Headless.Discovery.Yarp;

/// <summary>
/// The pure rules that turn one configured destination and one pod into a YARP destination: the name and the address.
/// No state, no I/O.
/// </summary>
internal static class PodDestinations
{
    /// <summary>
    /// The destination name of each pod of <paramref name="pods"/>, aligned by index: its hostname (SRV target, e.g.
    /// <c>web-0.backend.shop.svc.cluster.local</c>, which carries the StatefulSet ordinal) when known, else its
    /// <c>address:port</c>. A hostname shared by several pods (a dual-stack pod has one per address) is followed by
    /// <c>/address:port</c> on each of them. Every name depends on the pod alone and on which hostnames are shared, never
    /// on its position, so a pod keeps its name from one snapshot to the next.
    /// </summary>
    public static string[] Names(ImmutableArray<PodEndpoint> pods)
    {
        HashSet<string>? seen = null;
        HashSet<string>? shared = null;
        foreach (PodEndpoint pod in pods)
        {
            if (pod.Hostname is { } hostname && !(seen ??= new(StringComparer.OrdinalIgnoreCase)).Add(hostname))
            {
                (shared ??= new(StringComparer.OrdinalIgnoreCase)).Add(hostname);
            }
        }

        var names = new string[pods.Length];
        for (int i = 0; i < names.Length; i++)
        {
            PodEndpoint pod = pods[i];
            names[i] = pod.Hostname switch
            {
                null => pod.Key,
                { } hostname when shared?.Contains(hostname) == true => hostname + "/" + pod.Key,
                { } hostname => hostname,
            };
        }

        return names;
    }

    /// <summary>
    /// <paramref name="address"/> with its host replaced by the pod's IP (IPv6 in brackets) and its port by the one the
    /// address names explicitly, else the pod's (the service's port), else the scheme's default; scheme, user info, path,
    /// query and fragment are kept.
    /// </summary>
    public static string Rewrite(Uri address, PodEndpoint pod)
    {
        var builder = new UriBuilder(address)
        {
            Host = pod.Address.AddressFamily == AddressFamily.InterNetworkV6 ? "[" + pod.Address + "]" : pod.Address.ToString(),
        };
        if (!HasExplicitPort(address) && pod.Port != 0)
        {
            builder.Port = pod.Port;
        }

        return builder.Uri.AbsoluteUri;
    }

    /// <summary>
    /// Whether the address writes a port after its host (<c>http://backend:8080/</c>; <c>http://backend:80/</c> too,
    /// which <see cref="Uri.IsDefaultPort"/> cannot tell from <c>http://backend/</c>).
    /// </summary>
    public static bool HasExplicitPort(Uri address)
    {
        ReadOnlySpan<char> text = address.OriginalString.AsSpan().Trim();
        int start = text.IndexOf("://", StringComparison.Ordinal);
        if (start < 0)
        {
            return !address.IsDefaultPort;
        }

        ReadOnlySpan<char> authority = text[(start + 3)..];
        int end = authority.IndexOfAny("/?#");
        if (end >= 0)
        {
            authority = authority[..end];
        }

        int at = authority.LastIndexOf('@');
        if (at >= 0)
        {
            authority = authority[(at + 1)..];
        }

        // A bracketed IPv6 host is never a service key, but its colons are not a port either.
        int bracket = authority.LastIndexOf(']');
        return authority[(bracket + 1)..].Contains(':');
    }

    /// <summary>The <c>Host</c> header a pod destination sends by default: the configured one, else the address's own authority.</summary>
    public static string HostHeader(string? configured, Uri address) =>
        configured ?? (HasExplicitPort(address) ? address.Host + ":" + address.Port.ToString(CultureInfo.InvariantCulture) : address.Host);
}
