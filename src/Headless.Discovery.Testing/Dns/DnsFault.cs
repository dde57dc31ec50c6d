namespace Headless.Discovery.Testing;

/// <summary>
/// A failure that <see cref="EmbeddedDnsServer"/> can inject instead of its normal answer
/// (see <see cref="EmbeddedDnsServer.InjectFault(DnsFault, string?, int?)"/>).
/// </summary>
public enum DnsFault
{
    /// <summary>No fault: the zone data is served normally.</summary>
    None = 0,

    /// <summary>Answer with response code SERVFAIL (2) and no records.</summary>
    ServerFailure,

    /// <summary>Answer with response code NXDOMAIN (3), whatever the zone data says.</summary>
    NameError,

    /// <summary>Answer with response code REFUSED (5) and no records.</summary>
    Refused,

    /// <summary>Send no answer at all, so the client times out. Applies to UDP and TCP.</summary>
    Drop,

    /// <summary>
    /// Over UDP, answer NOERROR with the TC (truncated) bit set and no records, which tells the client to retry over TCP.
    /// Queries over TCP are answered normally and do not consume the fault's count; combine with
    /// <see cref="EmbeddedDnsServer.TcpEnabled"/> = <see langword="false"/> to simulate "truncated, and TCP refused".
    /// </summary>
    Truncate,
}
