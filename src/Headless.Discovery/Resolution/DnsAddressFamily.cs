namespace Headless.Discovery;

/// <summary>Which address records to ask for.</summary>
public enum DnsAddressFamily
{
    /// <summary>A records only (the default: most clusters are IPv4 single-stack).</summary>
    IPv4,

    /// <summary>AAAA records only.</summary>
    IPv6,

    /// <summary>A and AAAA records, queried in parallel; the result is their union.</summary>
    Both,
}
