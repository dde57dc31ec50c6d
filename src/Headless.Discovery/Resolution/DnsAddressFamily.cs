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

    /// <summary>
    /// A records; AAAA only when the name has no A records (NXDOMAIN or NODATA). Never a mix: a name with both gives
    /// its IPv4 addresses. A failed A lookup (timeout, SERVFAIL) fails the round rather than switching family, so a
    /// flaky network cannot flip the set between families; the last known good set is kept. Envoy's
    /// <c>V4_PREFERRED</c>. With SRV, each target gets its own IPv4 addresses when it has any, else its IPv6 ones.
    /// </summary>
    IPv4Preferred,

    /// <summary>
    /// AAAA records; A only when the name has no AAAA records (NXDOMAIN or NODATA). Otherwise as
    /// <see cref="IPv4Preferred"/>, with the families swapped. Envoy's <c>V6_PREFERRED</c>/<c>AUTO</c>.
    /// </summary>
    IPv6Preferred,
}
