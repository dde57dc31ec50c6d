using System.Globalization;
using DnsClient;
using DnsClient.Protocol;
using Polly;
using Polly.Timeout;

namespace Headless.Discovery;

/// <summary>
/// The words of resolution errors: every <see cref="DnsResolutionException"/> a round returns is built here, so the
/// messages (what was asked, of whom, how often, and what came back) read alike whichever part of the round failed.
/// </summary>
internal static class DnsErrorText
{
    /// <summary>"DNS A query for 'name' to 10.0.0.10:53": the query and the servers it went to.</summary>
    public static string Describe(DnsQueryOutcome query) =>
        $"DNS {query.State.Type} query for '{query.State.Name}' to {query.State.TriedServers()}";

    /// <summary>An error about <paramref name="query"/>: by default "&lt;query&gt; &lt;what&gt; (after n attempt(s))."; else <paramref name="what"/> as is.</summary>
    public static DnsResolutionException Error(DnsQueryOutcome query, string what, Exception? inner, int? responseCode = null, bool describeQuery = true)
    {
        string message = describeQuery
            ? string.Create(CultureInfo.InvariantCulture, $"{Describe(query)} {what} (after {query.State.Attempts} attempt(s)).")
            : what + ".";
        return new DnsResolutionException(message, inner, responseCode, false);
    }

    public static DnsResolutionException NoServers(string name, QueryType type) => new(
        $"Cannot resolve '{name}' ({type}): no DNS name servers are configured and none were found in the system configuration.",
        null,
        null,
        false);

    /// <summary>The query waited for a slot of the first server's gate longer than its attempts could have taken.</summary>
    public static DnsResolutionException ServerBusy(string name, QueryType type, string server, TimeSpan patience)
    {
        string busy = string.Create(
            CultureInfo.InvariantCulture,
            $"DNS {type} query for '{name}' was not sent: {NameServerGate.MaxInFlight} queries from this process to {server} were in flight for {patience.TotalMilliseconds:0.###} ms (as long as this query's attempts could take); the server is slow or down.");
        return new DnsResolutionException(busy, new TimeoutException(busy), null, true);
    }

    /// <summary>Every attempt timed out.</summary>
    public static DnsResolutionException TimedOut(DnsAttemptState state, TimeSpan attemptTimeout, TimeoutRejectedException rejection)
    {
        string message = string.Create(
            CultureInfo.InvariantCulture,
            $"DNS {state.Type} query for '{state.Name}' timed out: {state.Attempts} attempt(s) of {attemptTimeout.TotalMilliseconds:0.###} ms each to {state.TriedServers()} got no answer.");
        return new DnsResolutionException(message, new TimeoutException(message, rejection), null, true);
    }

    /// <summary>No SRV target yielded an address and at least one target's lookup failed.</summary>
    public static DnsResolutionException SrvTargetsFailed(string name, int records, int failed, Exception? first) => new(
        $"Resolving '{name}': none of the {records} SRV target(s) could be resolved to an address; {failed} lookup(s) failed, the first with: {first?.Message}",
        first);

    /// <summary>A failed attempt, for the retry log line.</summary>
    public static string DescribeOutcome(Outcome<IDnsQueryResponse> outcome) => outcome.Exception switch
    {
        null => outcome.Result is null ? "no answer" : RcodeName(outcome.Result.Header.ResponseCode),
        TimeoutRejectedException => "timed out",
        Exception ex => ex.Message,
    };

    public static string RcodeName(DnsHeaderResponseCode code) => code switch
    {
        DnsHeaderResponseCode.ServerFailure => "SERVFAIL",
        DnsHeaderResponseCode.Refused => "REFUSED",
        DnsHeaderResponseCode.NotExistentDomain => "NXDOMAIN",
        DnsHeaderResponseCode.FormatError => "FORMERR",
        DnsHeaderResponseCode.NotImplemented => "NOTIMP",
        _ => string.Create(CultureInfo.InvariantCulture, $"RCODE {(int)code}"),
    };
}
