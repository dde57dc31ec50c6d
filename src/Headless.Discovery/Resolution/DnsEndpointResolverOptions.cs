using System.Globalization;
using System.Net;

namespace Headless.Discovery;

/// <summary>
/// The Resolution room's own settings, read by <see cref="DnsResolver"/>: built from <c>HeadlessServiceOptions</c> by
/// the root (one options type for users). The resolver's constructor validates them and throws one
/// <see cref="InvalidOptionsException"/> naming every bad option.
/// </summary>
internal sealed class DnsEndpointResolverOptions
{
    /// <summary>Default for <see cref="MaxEndpoints"/>: 5000.</summary>
    internal const int DefaultMaxEndpoints = 5000;

    /// <summary>
    /// Name servers to query, each <c>ip</c>, <c>ip:port</c> or <c>[ipv6]:port</c> (port 53 when omitted).
    /// Default: empty, meaning the system's name servers (from <c>/etc/resolv.conf</c>).
    /// </summary>
    public IList<string> DnsServers { get; } = new List<string>();

    /// <summary>Which address records to query when <see cref="UseSrv"/> is off. Default: <see cref="DnsAddressFamily.IPv4"/>.</summary>
    public DnsAddressFamily AddressFamily { get; set; } = DnsAddressFamily.IPv4;

    /// <summary>
    /// Query SRV records instead of A/AAAA: each record gives a pod's port and hostname, whose addresses come from the
    /// additional section or a follow-up lookup. The service name should then be the SRV name
    /// (<c>_&lt;port&gt;._&lt;proto&gt;.&lt;svc&gt;.&lt;ns&gt;.svc.&lt;zone&gt;</c>). Default: <see langword="false"/>.
    /// </summary>
    public bool UseSrv { get; set; }

    /// <summary>The port given to endpoints from A/AAAA answers, 0 to 65535. Default: 0 ("no port known").</summary>
    public int Port { get; set; }

    /// <summary>Timeout of one DNS attempt (enforced by the Polly pipeline), 10 ms to 5 minutes. Default: 2 seconds.</summary>
    public TimeSpan DnsAttemptTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Retries after a timed-out, unreachable or SERVFAIL attempt (never after NXDOMAIN or NODATA), 0 to 10.
    /// Default: 2.
    /// </summary>
    public int DnsRetryCount { get; set; } = 2;

    /// <summary>Base delay of the exponential backoff (with jitter) between retries. Default: 100 ms. Must not be negative.</summary>
    public TimeSpan DnsRetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// The most endpoints taken from one answer, 1 to 100 000; the rest are dropped with a logged warning.
    /// Default: 5000.
    /// </summary>
    public int MaxEndpoints { get; set; } = DefaultMaxEndpoints;

    /// <summary>Checks every option; throws one <see cref="InvalidOptionsException"/> listing every bad one.</summary>
    internal void Validate()
    {
        var problems = new OptionProblems();
        Collect(problems);
        problems.ThrowIfAny("options");
    }

    /// <summary>Adds every problem of these options to <paramref name="problems"/>.</summary>
    internal void Collect(OptionProblems problems)
    {
        for (int i = 0; i < DnsServers.Count; i++)
        {
            if (ParseDnsServer(DnsServers[i], out _) is { } error)
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"{nameof(DnsServers)}[{i}]"), $"'{DnsServers[i]}' {error}");
            }
        }

        if (!Enum.IsDefined(AddressFamily))
        {
            problems.Add(nameof(AddressFamily), $"{AddressFamily} is not one of IPv4, IPv6, Both, IPv4Preferred, IPv6Preferred.");
        }

        problems.Range(Port, 0, IPEndPoint.MaxPort, nameof(Port));
        problems.Duration(DnsAttemptTimeout, OptionProblems.TimeoutFloor, TimeSpan.FromMinutes(5), nameof(DnsAttemptTimeout));
        problems.Range(DnsRetryCount, 0, 10, nameof(DnsRetryCount));
        if (DnsRetryBaseDelay < TimeSpan.Zero || DnsRetryBaseDelay > TimeSpan.FromMinutes(1))
        {
            problems.Add(nameof(DnsRetryBaseDelay), $"{DnsRetryBaseDelay} must be between zero and 1 minute.");
        }

        problems.Range(MaxEndpoints, 1, 100_000, nameof(MaxEndpoints));
    }

    /// <summary>Parses a DNS server as <see cref="ParseDnsServer"/> does.</summary>
    /// <returns><see langword="true"/> when <paramref name="text"/> is valid.</returns>
    internal static bool TryParseDnsServer(string? text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IPEndPoint? endPoint) =>
        ParseDnsServer(text, out endPoint) is null;

    /// <summary>Parses a DNS server as <see cref="ParseDnsServer"/> does, saying what is wrong when it is not valid.</summary>
    /// <returns><see langword="true"/> when <paramref name="text"/> is valid.</returns>
    internal static bool TryParseDnsServer(string? text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IPEndPoint? endPoint, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        error = ParseDnsServer(text, out endPoint);
        return error is null;
    }

    /// <summary>
    /// Parses a DNS server: <c>ip</c>, <c>ip:port</c> or <c>[ipv6]:port</c> (port 53 when omitted). IPv4 addresses are
    /// written as four dotted numbers. A bare IPv6 address that would read differently with its last group taken as a
    /// port (<c>::1:53</c>) is refused as ambiguous: write <c>[::1]:53</c> or <c>[::1:53]</c>. Unspecified (<c>0.0.0.0</c>,
    /// <c>::</c>), multicast and broadcast addresses are refused: no name server answers there.
    /// </summary>
    /// <returns><see langword="null"/> when valid, else what is wrong, worded to follow the quoted text (<c>'::1:53' is ambiguous: …</c>).</returns>
    internal static string? ParseDnsServer(string? text, out IPEndPoint? endPoint)
    {
        const string Expected = "expected 'ip', 'ip:port' or '[ipv6]:port' (an address, not a host name)";
        endPoint = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return $"is empty: {Expected}.";
        }

        text = text.Trim();
        IPEndPoint parsed;
        string host;
        if (!text.StartsWith('[') && IPAddress.TryParse(text, out IPAddress? bare))
        {
            host = text;
            if (bare.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && AmbiguousPort(text) is { } ambiguity)
            {
                return ambiguity;
            }

            parsed = new IPEndPoint(bare, 53);
        }
        else if (IPEndPoint.TryParse(text, out IPEndPoint? withPort))
        {
            int colon = text.LastIndexOf(':');
            host = text.StartsWith('[') || colon < 0 ? text : text[..colon];
            if (withPort.Port == 0)
            {
                if (text.EndsWith(":0", StringComparison.Ordinal))
                {
                    return "has port 0: name the port the server listens on, or leave it out for 53.";
                }

                withPort = new IPEndPoint(withPort.Address, 53);
            }

            parsed = withPort;
        }
        else
        {
            return $"is not a valid name server: {Expected}.";
        }

        if (parsed.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && host.Count(c => c == '.') != 3)
        {
            // IPAddress.TryParse also takes '10' or '127.1'; a name server list should say what it means.
            return $"is not a valid name server: write IPv4 addresses as four dotted numbers, e.g. '{parsed.Address}'.";
        }

        AddressProblem problem = AddressHygiene.Classify(parsed.Address);
        if (problem != AddressProblem.None)
        {
            return $"is a {problem.ToString().ToLowerInvariant()} address: no name server answers there.";
        }

        endPoint = parsed;
        return null;
    }

    /// <summary>Why a bare IPv6 address is ambiguous, or <see langword="null"/>: its last group also reads as a port of a valid address.</summary>
    private static string? AmbiguousPort(string text)
    {
        int colon = text.LastIndexOf(':');
        string head = text[..colon];
        string tail = text[(colon + 1)..];
        bool portLike = tail.Length is > 0 and <= 5 && tail.All(char.IsAsciiDigit) && int.Parse(tail, CultureInfo.InvariantCulture) is > 0 and <= IPEndPoint.MaxPort;
        return portLike && IPAddress.TryParse(head, out IPAddress? address) && address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? $"is ambiguous: write '[{head}]:{tail}' for port {tail} of {head}, or '[{text}]' for the address {text}."
            : null;
    }
}
