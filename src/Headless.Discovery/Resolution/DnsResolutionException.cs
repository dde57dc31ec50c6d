namespace Headless.Discovery;

/// <summary>
/// Why a DNS resolution round failed (or came back empty), as carried in <see cref="ResolutionResult.Error"/> by
/// <see cref="DnsEndpointResolver"/>. Never thrown by the resolver itself, and built only by the library (read it, do
/// not create it: a custom <see cref="IEndpointResolver"/> reports its own exception type). The message names the
/// name queried, the query type, the name server(s) asked, in order, and the number of attempts (1 + retries; "not
/// sent" when none was). What a program acts on is a property: the answer's error code, or a timeout.
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
    }

    internal DnsResolutionException(string message, Exception? innerException, int? responseCode, bool isTimeout)
        : base(message, innerException)
    {
        ResponseCode = responseCode;
        IsTimeout = isTimeout;
    }

    /// <summary>
    /// The DNS RCODE of the last answer when the server answered with an error (2 = SERVFAIL, 3 = NXDOMAIN, 5 = REFUSED),
    /// or <see langword="null"/> when no answer arrived.
    /// </summary>
    public int? ResponseCode { get; }

    /// <summary><see langword="true"/> when the last attempt timed out (see <c>HeadlessServiceOptions.DnsAttemptTimeout</c>).</summary>
    public bool IsTimeout { get; }
}
