using Microsoft.Extensions.Logging;

namespace Headless.Discovery;

/// <summary>
/// Resolves a headless Service through DNS: A and/or AAAA records (one endpoint per address, port
/// <see cref="HeadlessServiceOptions.Port"/>), or SRV records (port and hostname per pod, addresses from the
/// additional section or follow-up lookups). One call is one resolution round.
/// </summary>
/// <remarks>
/// <para>
/// DnsClient sends the queries with its own cache, retries and timeout switched off; Polly owns both the per-attempt
/// timeout (<see cref="HeadlessServiceOptions.DnsAttemptTimeout"/>) and the retries
/// (<see cref="HeadlessServiceOptions.DnsRetryCount"/>, exponential backoff with jitter). The DnsClient client and the
/// Polly pipelines are the process's: every resolver whose name servers, attempt timeout, retries and clock are the
/// same shares one set, so a process watching hundreds of services holds one DNS transport per name server, not one
/// per service. Retries happen after timeouts,
/// transport errors, SERVFAIL and REFUSED, never after NXDOMAIN or NODATA, which are authoritative. Attempt <c>n</c>
/// goes to name server <c>n mod count</c>, so the first server is preferred (as in resolv.conf) and retries move on.
/// </para>
/// <para>
/// At most 16 queries are in flight from the whole process (every resolver together) to one first name server: a
/// query takes a slot before its first attempt's timeout starts and holds it until it ends, retries included. A query
/// that waits for a slot longer than its attempts could take (attempt timeout × (retries + 1)) fails as a timeout
/// without being sent, so services queued behind a dead server turn stale as soon as they would without the bound. Hundreds of services starting at once therefore reach the server a
/// few at a time and are all answered in their first round, instead of overflowing its receive queue and waiting out
/// an attempt timeout; and a truncated answer's TCP query never finds the server's TCP connection limit (dnsmasq: 20)
/// taken by this process.
/// </para>
/// <para>
/// Answers are untrusted: unspecified, multicast and broadcast addresses and duplicates are dropped, SRV targets that are
/// not valid DNS names are dropped, CNAME chains are followed inside the answer for at most 8 links (a
/// longer or looping chain fails the round), records for other names are ignored, and at most <see cref="HeadlessServiceOptions.MaxEndpoints"/> endpoints
/// (the first in address order, so the choice is stable) are kept.
/// </para>
/// <para>
/// With <see cref="DnsAddressFamily.Both"/>, A and AAAA are queried in parallel and unioned; if either query fails
/// (after its retries) the round is <see cref="ResolutionOutcome.Failed"/> even if the other succeeded, because a partial
/// answer would silently remove every pod's other-family endpoints (and their health history) until the next round.
/// A family that answers NXDOMAIN or NODATA is simply empty. With SRV, targets the additional section gives no address
/// are looked up, at most 8 at once; a target whose address lookup fails is skipped (logged); only when no target yields an address and at least one lookup failed is the round failed.
/// </para>
/// <para>
/// Queries go over UDP. An answer that comes back truncated is asked again over TCP, to the same server and within the
/// same attempt (and its timeout), on a TCP connection of its own that is closed as soon as that query ends: answered,
/// failed, timed out or cancelled. No TCP connection is reused or pooled, so none outlives its round: an answer over
/// TCP is never read from a connection opened before the data it asks about (dnsmasq answers each TCP connection from a
/// copy of its records taken when the connection was accepted), and no idle connection counts against a server's limit
/// on TCP connections. Rounds of <see cref="DnsAddressFamily.Both"/> or SRV follow-up lookups may each open one
/// connection per truncated query, at the same time.
/// </para>
/// <para>
/// It reads the DNS options of a <see cref="HeadlessServiceOptions"/> (<see cref="HeadlessServiceOptions.DnsServers"/>,
/// <see cref="HeadlessServiceOptions.AddressFamily"/>, <see cref="HeadlessServiceOptions.UseSrv"/>,
/// <see cref="HeadlessServiceOptions.Port"/>, <see cref="HeadlessServiceOptions.DnsAttemptTimeout"/>,
/// <see cref="HeadlessServiceOptions.DnsRetryCount"/>, <see cref="HeadlessServiceOptions.MaxEndpoints"/>), once, in the
/// constructor: the same settings a <see cref="HeadlessService"/> resolves with. Use it for one-shot resolution with the
/// round's <see cref="ResolutionResult"/>. Thread-safe: one instance serves concurrent calls.
/// </para>
/// </remarks>
public sealed class DnsEndpointResolver : IEndpointResolver
{
    private readonly DnsResolver _resolver;

    /// <summary>Creates a resolver with the DNS options of <paramref name="options"/>.</summary>
    /// <param name="options">
    /// The options; their DNS options are validated here and read once (<see cref="HeadlessServiceOptions.Name"/> and the
    /// refresh and health options are not read: the name is given to each <see cref="ResolveAsync"/> call).
    /// </param>
    /// <param name="loggerFactory">Where to log (category <c>Headless.Discovery.DnsEndpointResolver</c>); <see langword="null"/> for no logging.</param>
    /// <param name="timeProvider">The clock for attempt timeouts, retry delays and durations; <see langword="null"/> for <see cref="TimeProvider.System"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOptionsException">
    /// A DNS option is invalid; <see cref="InvalidOptionsException.Problems"/> lists every one, by the same paths
    /// <see cref="HeadlessServiceOptions.Validate"/> reports (<c>DnsServers[1]</c>, <c>DnsAttemptTimeout</c>).
    /// </exception>
    public DnsEndpointResolver(HeadlessServiceOptions options, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ValidateDns();
        _resolver = new DnsResolver(options.ToResolverOptions(), loggerFactory, timeProvider);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Returns <see cref="ResolutionOutcome.Failed"/> with a <see cref="DnsResolutionException"/> for timeouts, transport
    /// errors, SERVFAIL/REFUSED and malformed answers; <see cref="ResolutionOutcome.NotFound"/> for NXDOMAIN;
    /// <see cref="ResolutionOutcome.NoData"/> for an empty answer or one whose records were all dropped. Thread-safe.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="service"/> is <see langword="null"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public ValueTask<ResolutionResult> ResolveAsync(ServiceName service, CancellationToken cancellationToken = default) =>
        _resolver.ResolveAsync(service, cancellationToken);
}
