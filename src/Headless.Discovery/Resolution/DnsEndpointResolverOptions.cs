using System.Globalization;
using System.Net;

namespace Headless.Discovery;

/// <summary>Options for <see cref="DnsEndpointResolver"/>. Call <see cref="Validate"/> (done by the resolver's constructor) to fail early.</summary>
public sealed class DnsEndpointResolverOptions
{
    /// <summary>Default for <see cref="MaxEndpoints"/>.</summary>
    public const int DefaultMaxEndpoints = 5000;

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
    /// Default: <see cref="DefaultMaxEndpoints"/> (5000).
    /// </summary>
    public int MaxEndpoints { get; set; } = DefaultMaxEndpoints;

    /// <summary>Checks every option and throws an <see cref="ArgumentException"/> naming the first bad one.</summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public void Validate()
    {
        for (int i = 0; i < DnsServers.Count; i++)
        {
            if (ParseDnsServer(DnsServers[i], out _) is { } error)
            {
                throw new ArgumentException($"{nameof(DnsServers)}[{i}] = '{DnsServers[i]}' {error}", nameof(DnsServers));
            }
        }

        if (!Enum.IsDefined(AddressFamily))
        {
            throw new ArgumentException($"{nameof(AddressFamily)} = {AddressFamily} is not one of IPv4, IPv6, Both.", nameof(AddressFamily));
        }

        if (Port is < 0 or > IPEndPoint.MaxPort)
        {
            throw new ArgumentException($"{nameof(Port)} = {Port} must be between 0 and 65535.", nameof(Port));
        }

        OptionChecks.Duration(DnsAttemptTimeout, OptionChecks.TimeoutFloor, TimeSpan.FromMinutes(5), nameof(DnsAttemptTimeout), nameof(DnsAttemptTimeout));

        if (DnsRetryCount is < 0 or > 10)
        {
            throw new ArgumentException($"{nameof(DnsRetryCount)} = {DnsRetryCount} must be between 0 and 10.", nameof(DnsRetryCount));
        }

        if (DnsRetryBaseDelay < TimeSpan.Zero || DnsRetryBaseDelay > TimeSpan.FromMinutes(1))
        {
            throw new ArgumentException($"{nameof(DnsRetryBaseDelay)} = {DnsRetryBaseDelay} must be between zero and 1 minute.", nameof(DnsRetryBaseDelay));
        }

        if (MaxEndpoints is < 1 or > 100_000)
        {
            throw new ArgumentException($"{nameof(MaxEndpoints)} = {MaxEndpoints} must be between 1 and 100000.", nameof(MaxEndpoints));
        }
    }

    /// <summary>
    /// Parses <c>ip</c>, <c>ip:port</c> or <c>[ipv6]:port</c> (port 53 when omitted). IPv4 addresses are written as four
    /// dotted numbers. A bare IPv6 address that would read differently with its last group taken as a port
    /// (<c>::1:53</c>) is refused as ambiguous: write <c>[::1]:53</c> or <c>[::1:53]</c>. Unspecified
    /// (<c>0.0.0.0</c>, <c>::</c>), multicast and broadcast addresses are refused: no name server answers there.
    /// </summary>
    /// <param name="text">The text to parse.</param>
    /// <param name="endPoint">The parsed endpoint.</param>
    /// <returns><see langword="true"/> when <paramref name="text"/> is valid.</returns>
    public static bool TryParseDnsServer(string? text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IPEndPoint? endPoint) =>
        ParseDnsServer(text, out endPoint) is null;

    /// <summary>Parses a name server as <see cref="TryParseDnsServer(string?, out IPEndPoint?)"/> does, saying what is wrong when it is not valid.</summary>
    /// <param name="text">The text to parse.</param>
    /// <param name="endPoint">The parsed endpoint.</param>
    /// <param name="error">What is wrong, worded to follow the quoted text (<c>'::1:53' is ambiguous: …</c>); <see langword="null"/> when valid.</param>
    /// <returns><see langword="true"/> when <paramref name="text"/> is valid.</returns>
    public static bool TryParseDnsServer(string? text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IPEndPoint? endPoint, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        error = ParseDnsServer(text, out endPoint);
        return error is null;
    }

    /// <summary>Parses a name server; returns <see langword="null"/> when valid, else what is wrong (to follow the quoted text).</summary>
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

        DnsEndpointResolver.AddressProblem problem = DnsEndpointResolver.Hygiene.Classify(parsed.Address);
        if (problem != DnsEndpointResolver.AddressProblem.None)
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
