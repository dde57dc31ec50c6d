using System.Net;
using DnsClient;
using Microsoft.Extensions.Logging;

namespace Headless.Discovery;

/// <summary>
/// Looks a name's addresses up: A, AAAA, both in parallel and merged, or one family preferred over the other
/// (<see cref="DnsAddressFamily"/>). With both, a
/// failed family fails the lookup even when the other succeeded (a partial answer would silently drop every pod's
/// other-family endpoints); a family that is NXDOMAIN or NODATA is simply empty. Thread-safe.
/// </summary>
internal sealed class DnsAddressQuery(DnsQueryRunner runner, DnsAnswerReader reader, DnsAddressFamily family, ILogger logger)
{
    /// <summary>Looks up the configured families for <paramref name="name"/>, combining A and AAAA for <see cref="DnsAddressFamily.Both"/>.</summary>
    /// <param name="service">The service the round is for (for logs; <paramref name="name"/> may be one of its SRV targets).</param>
    /// <param name="name">The name to look up.</param>
    /// <param name="cancellationToken">The caller's cancellation.</param>
    /// <remarks>Not async itself for a single family: one state machine less per round.</remarks>
    public ValueTask<AddressLookup> LookupAsync(string service, string name, CancellationToken cancellationToken) => family switch
    {
        DnsAddressFamily.IPv4 => LookupAsync(name, QueryType.A, cancellationToken),
        DnsAddressFamily.IPv6 => LookupAsync(name, QueryType.AAAA, cancellationToken),
        DnsAddressFamily.IPv4Preferred => LookupPreferredAsync(service, name, QueryType.A, cancellationToken),
        DnsAddressFamily.IPv6Preferred => LookupPreferredAsync(service, name, QueryType.AAAA, cancellationToken),
        _ => LookupBothAsync(service, name, cancellationToken),
    };

    /// <summary>
    /// The <paramref name="preferred"/> family; the other one only when the preferred one is empty (NXDOMAIN or NODATA).
    /// A failed preferred lookup fails: switching family on a timeout would flip the set between families.
    /// </summary>
    private async ValueTask<AddressLookup> LookupPreferredAsync(string service, string name, QueryType preferred, CancellationToken cancellationToken)
    {
        AddressLookup first = await LookupAsync(name, preferred, cancellationToken).ConfigureAwait(false);
        if (first.Outcome is ResolutionOutcome.Success or ResolutionOutcome.Failed)
        {
            return first;
        }

        // The preferred family is empty, so combining the two is the other family's answer (or both empty).
        bool v4First = preferred == QueryType.A;
        AddressLookup second = await LookupAsync(name, v4First ? QueryType.AAAA : QueryType.A, cancellationToken).ConfigureAwait(false);
        return Combine(service, v4First ? first : second, v4First ? second : first);
    }

    private async ValueTask<AddressLookup> LookupBothAsync(string service, string name, CancellationToken cancellationToken)
    {
        Task<AddressLookup> v4 = LookupAsync(name, QueryType.A, cancellationToken).AsTask();
        Task<AddressLookup> v6 = LookupAsync(name, QueryType.AAAA, cancellationToken).AsTask();
        await Task.WhenAll(v4, v6).ConfigureAwait(false);
        return Combine(service, v4.Result, v6.Result);
    }

    private AddressLookup Combine(string service, AddressLookup v4, AddressLookup v6)
    {
        if (v4.Outcome == ResolutionOutcome.Failed || v6.Outcome == ResolutionOutcome.Failed)
        {
            if (v4.Outcome != v6.Outcome)
            {
                bool v4Failed = v4.Outcome == ResolutionOutcome.Failed;
                ResolutionLog.AddressFamilyFailed(logger, service, v4Failed ? "A" : "AAAA", v4Failed ? v6.Outcome : v4.Outcome);
            }

            return v4.Outcome == ResolutionOutcome.Failed ? v4 : v6;
        }

        if (v4.Outcome == ResolutionOutcome.Success || v6.Outcome == ResolutionOutcome.Success)
        {
            var union = new List<IPAddress>(v4.Addresses.Count + v6.Addresses.Count);
            union.AddRange(v4.Addresses);
            union.AddRange(v6.Addresses);
            TimeSpan ttl = v4.Outcome != ResolutionOutcome.Success ? v6.Ttl
                : v6.Outcome != ResolutionOutcome.Success ? v4.Ttl
                : Min(v4.Ttl, v6.Ttl);
            return AddressLookup.Success(union, ttl);
        }

        TimeSpan emptyTtl = Min(v4.Ttl, v6.Ttl);
        return v4.Outcome == ResolutionOutcome.NotFound && v6.Outcome == ResolutionOutcome.NotFound
            ? AddressLookup.Empty(ResolutionOutcome.NotFound, emptyTtl, v4.Error)
            : AddressLookup.Empty(ResolutionOutcome.NoData, emptyTtl, v4.Outcome == ResolutionOutcome.NoData ? v4.Error : v6.Error);
    }

    /// <summary>One A or AAAA lookup with retries, CNAME following and address hygiene.</summary>
    private async ValueTask<AddressLookup> LookupAsync(string name, QueryType type, CancellationToken cancellationToken)
    {
        DnsQueryOutcome query = await runner.QueryAsync(name, type, cancellationToken).ConfigureAwait(false);
        return DnsAnswerReader.TryGetAnswer(query, name, out IDnsQueryResponse? response, out AddressLookup? empty)
            ? reader.ReadAddresses(query, response, name, type)
            : empty;
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
