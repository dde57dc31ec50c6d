namespace Headless.Discovery;

/// <summary>
/// Why a DNS resolution round failed (or came back empty), as carried in <see cref="ResolutionResult.Error"/> by
/// <see cref="DnsEndpointResolver"/>. Never thrown by the resolver itself, and built only by the library (read it, do
/// not create it: a custom <see cref="IEndpointResolver"/> reports its own exception type); the message names the service, the query
/// type, the name server(s) asked and the number of attempts.
/// </summary>
/// <remarks>
/// For a timed-out round <see cref="IsTimeout"/> is <see langword="true"/> and <see cref="Exception.InnerException"/> is a
/// <see cref="TimeoutException"/>. Immutable once built.
/// </remarks>
public sealed class DnsResolutionException : Exception
{
    /// <summary>Creates an exception with a default message.</summary>
    internal DnsResolutionException()
        : this("DNS resolution failed.")
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">What went wrong.</param>
    internal DnsResolutionException(string message)
        : this(message, null)
    {
    }

    /// <summary>Creates an exception with a message and a cause.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause, or <see langword="null"/>.</param>
    internal DnsResolutionException(string message, Exception? innerException)
        : base(message, innerException)
    {
        DnsServers = [];
    }

    internal DnsResolutionException(
        string message,
        Exception? innerException,
        string service,
        string queryType,
        IReadOnlyList<string> dnsServers,
        int attempts,
        int? responseCode,
        bool isTimeout)
        : base(message, innerException)
    {
        Service = service;
        QueryType = queryType;
        DnsServers = dnsServers;
        Attempts = attempts;
        ResponseCode = responseCode;
        IsTimeout = isTimeout;
    }

    /// <summary>The name that was queried (service, or SRV target for a follow-up lookup), or <see langword="null"/> when unknown.</summary>
    public string? Service { get; }

    /// <summary>The query type: <c>A</c>, <c>AAAA</c> or <c>SRV</c>; <see langword="null"/> when unknown.</summary>
    public string? QueryType { get; }

    /// <summary>The name servers (<c>ip:port</c>) that were asked, in order, without repeats; empty when unknown.</summary>
    public IReadOnlyList<string> DnsServers { get; }

    /// <summary>How many attempts the round made (1 + retries); 0 when no query was sent.</summary>
    public int Attempts { get; }

    /// <summary>
    /// The DNS RCODE of the last answer when the server answered with an error (2 = SERVFAIL, 3 = NXDOMAIN, 5 = REFUSED),
    /// or <see langword="null"/> when no answer arrived.
    /// </summary>
    public int? ResponseCode { get; }

    /// <summary><see langword="true"/> when the last attempt timed out (see <c>HeadlessServiceOptions.DnsAttemptTimeout</c>).</summary>
    public bool IsTimeout { get; }
}
