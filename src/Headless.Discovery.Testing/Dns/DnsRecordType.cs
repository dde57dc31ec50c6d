namespace Headless.Discovery.Testing;

/// <summary>
/// DNS record types as they appear on the wire (RFC 1035 / RFC 3596 / RFC 2782 numbers). Types that have no named
/// member are still reported, as their numeric value cast to this enum.
/// </summary>
public enum DnsRecordType
{
    /// <summary>IPv4 address record (1).</summary>
    A = 1,

    /// <summary>Name server record (2).</summary>
    Ns = 2,

    /// <summary>Canonical name record (5).</summary>
    Cname = 5,

    /// <summary>Start of authority record (6).</summary>
    Soa = 6,

    /// <summary>Text record (16).</summary>
    Txt = 16,

    /// <summary>IPv6 address record (28).</summary>
    Aaaa = 28,

    /// <summary>Service locator record (33).</summary>
    Srv = 33,

    /// <summary>Query for all record types (255).</summary>
    Any = 255,
}

/// <summary>The transport a DNS query arrived on.</summary>
public enum DnsTransport
{
    /// <summary>UDP (answers larger than the client's buffer are truncated).</summary>
    Udp = 0,

    /// <summary>TCP (used by clients after a truncated UDP answer).</summary>
    Tcp = 1,
}

/// <summary>
/// One query received by <see cref="EmbeddedDnsServer"/>, as recorded for assertions.
/// </summary>
/// <param name="Name">The queried name: lower case, without trailing dot.</param>
/// <param name="Type">The queried record type.</param>
/// <param name="Transport">The transport the query arrived on.</param>
/// <param name="Fault">
/// The fault applied to this query, or <see cref="DnsFault.None"/> when it was answered from the zone data.
/// Queries received while the server is paused report <see cref="DnsFault.Drop"/>.
/// </param>
public sealed record DnsQueryInfo(string Name, DnsRecordType Type, DnsTransport Transport, DnsFault Fault);
