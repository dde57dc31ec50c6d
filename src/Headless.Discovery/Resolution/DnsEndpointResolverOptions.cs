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
    public IList<string> NameServers { get; } = new List<string>();

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

    /// <summary>Timeout of one DNS attempt (enforced by the Polly pipeline). Default: 2 seconds. Must be positive.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Retries after a timed-out, unreachable or SERVFAIL attempt (never after NXDOMAIN or NODATA), 0 to 10.
    /// Default: 2.
    /// </summary>
    public int RetryCount { get; set; } = 2;

    /// <summary>Base delay of the exponential backoff (with jitter) between retries. Default: 100 ms. Must not be negative.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// The most endpoints taken from one answer, 1 to 100 000; the rest are dropped with a logged warning.
    /// Default: <see cref="DefaultMaxEndpoints"/> (5000).
    /// </summary>
    public int MaxEndpoints { get; set; } = DefaultMaxEndpoints;

    /// <summary>Checks every option and throws an <see cref="ArgumentException"/> naming the first bad one.</summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public void Validate()
    {
        for (int i = 0; i < NameServers.Count; i++)
        {
            if (!TryParseNameServer(NameServers[i], out _))
            {
                throw new ArgumentException(
                    $"{nameof(NameServers)}[{i}] = '{NameServers[i]}' is not a valid name server: expected 'ip', 'ip:port' or '[ipv6]:port'.",
                    nameof(NameServers));
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

        if (AttemptTimeout <= TimeSpan.Zero || AttemptTimeout > TimeSpan.FromMinutes(5))
        {
            throw new ArgumentException($"{nameof(AttemptTimeout)} = {AttemptTimeout} must be greater than zero and at most 5 minutes.", nameof(AttemptTimeout));
        }

        if (RetryCount is < 0 or > 10)
        {
            throw new ArgumentException($"{nameof(RetryCount)} = {RetryCount} must be between 0 and 10.", nameof(RetryCount));
        }

        if (RetryBaseDelay < TimeSpan.Zero || RetryBaseDelay > TimeSpan.FromMinutes(1))
        {
            throw new ArgumentException($"{nameof(RetryBaseDelay)} = {RetryBaseDelay} must be between zero and 1 minute.", nameof(RetryBaseDelay));
        }

        if (MaxEndpoints is < 1 or > 100_000)
        {
            throw new ArgumentException($"{nameof(MaxEndpoints)} = {MaxEndpoints} must be between 1 and 100000.", nameof(MaxEndpoints));
        }
    }

    /// <summary>Parses <c>ip</c>, <c>ip:port</c> or <c>[ipv6]:port</c>; port 53 when omitted.</summary>
    /// <param name="text">The text to parse.</param>
    /// <param name="endPoint">The parsed endpoint.</param>
    /// <returns><see langword="true"/> when <paramref name="text"/> is valid.</returns>
    public static bool TryParseNameServer(string? text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IPEndPoint? endPoint)
    {
        endPoint = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        text = text.Trim();
        if (IPAddress.TryParse(text, out IPAddress? bare) && !text.StartsWith('['))
        {
            endPoint = new IPEndPoint(bare, 53);
            return true;
        }

        if (IPEndPoint.TryParse(text, out IPEndPoint? parsed))
        {
            if (parsed.Port == 0)
            {
                if (text.EndsWith(":0", StringComparison.Ordinal))
                {
                    return false;
                }

                parsed = new IPEndPoint(parsed.Address, 53);
            }

            endPoint = parsed;
            return true;
        }

        return false;
    }
}
