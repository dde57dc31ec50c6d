using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using DnsClient;
using DnsClient.Protocol;
using Microsoft.Extensions.Logging;

namespace Headless.Discovery;

/// <summary>
/// Reads untrusted answers: which records belong to the name asked (its owner, or a name of its CNAME chain, followed
/// for at most <see cref="DnsResolver.MaxCnameChainLength"/> links), which addresses can be pods (address
/// hygiene), the answer's TTL, and the cap on endpoints (<see cref="DnsEndpointResolverOptions.MaxEndpoints"/>, the first
/// in address order). Stateless apart from its settings; thread-safe.
/// </summary>
internal sealed class DnsAnswerReader(ILogger logger, int maxEndpoints)
{
    /// <summary>
    /// Turns a query outcome into an answer to read, or into the empty/failed lookup to return: NXDOMAIN is
    /// <see cref="ResolutionOutcome.NotFound"/>, any other error RCODE and any exception <see cref="ResolutionOutcome.Failed"/>.
    /// </summary>
    public static bool TryGetAnswer(
        DnsQueryOutcome query,
        string name,
        [NotNullWhen(true)] out IDnsQueryResponse? response,
        [NotNullWhen(false)] out AddressLookup? empty)
    {
        response = null;
        empty = null;
        if (query.Error is not null)
        {
            empty = AddressLookup.Failed(query.Error);
            return false;
        }

        IDnsQueryResponse r = query.Response!;
        DnsHeaderResponseCode code = r.Header.ResponseCode;
        if (code == DnsHeaderResponseCode.NotExistentDomain)
        {
            string what = $"{DnsErrorText.Describe(query)} answered NXDOMAIN: '{name}' does not exist";
            empty = AddressLookup.Empty(ResolutionOutcome.NotFound, NegativeTtl(r), DnsErrorText.Error(query, what, null, (int)code, describeQuery: false));
            return false;
        }

        if (code != DnsHeaderResponseCode.NoError)
        {
            string what = $"{DnsErrorText.Describe(query)} answered {DnsErrorText.RcodeName(code)} after {query.State.Attempts} attempt(s)";
            empty = AddressLookup.Failed(DnsErrorText.Error(query, what, null, (int)code, describeQuery: false));
            return false;
        }

        response = r;
        return true;
    }

    /// <summary>
    /// The CNAME chain from <paramref name="name"/> inside the answer (<see langword="null"/> when the answer has no
    /// CNAME, the common case), lowering <paramref name="ttl"/> to its links' TTLs; <see langword="false"/> with the
    /// error when the chain is too long or loops.
    /// </summary>
    public bool TryReadChain(DnsQueryOutcome query, IDnsQueryResponse response, string name, ref uint ttl, out List<string>? chain, [NotNullWhen(false)] out Exception? error)
    {
        chain = null;
        error = null;
        if (!HasCname(response.Answers) || TryFollowChain(response.Answers, name, ref ttl, out chain))
        {
            return true;
        }

        ResolutionLog.CnameChainTooLong(logger, name, DnsResolver.MaxCnameChainLength);
        error = DnsErrorText.Error(query, $"got an answer whose CNAME chain is longer than {DnsResolver.MaxCnameChainLength} links or loops", null);
        return false;
    }

    /// <summary>The usable <paramref name="type"/> addresses of <paramref name="name"/> in the answer, or why there are none.</summary>
    public AddressLookup ReadAddresses(DnsQueryOutcome query, IDnsQueryResponse response, string name, QueryType type)
    {
        uint ttl = uint.MaxValue;
        if (!TryReadChain(query, response, name, ref ttl, out List<string>? chain, out Exception? error))
        {
            return AddressLookup.Failed(error);
        }

        var hygiene = new AddressHygiene();
        IReadOnlyList<DnsResourceRecord> answers = response.Answers;
        var addresses = new List<IPAddress>(answers.Count);
        int foreign = 0;
        int records = 0;
        for (int i = 0; i < answers.Count; i++)
        {
            DnsResourceRecord record = answers[i];
            IPAddress? address = type == QueryType.A ? (record as ARecord)?.Address : (record as AaaaRecord)?.Address;
            if (address is null)
            {
                continue;
            }

            if (!InChain(record.DomainName, name, chain))
            {
                foreign++;
                continue;
            }

            records++;
            // Duplicates are kept here: sorting the endpoints removes them (and logs them) for less than a hash set costs.
            if (!hygiene.Drop(address))
            {
                ttl = Math.Min(ttl, Ttl(record));
                addresses.Add(Normalize(address));
            }
        }

        Report(name, hygiene, foreign);
        return addresses.Count > 0 ? AddressLookup.Success(addresses, ToTimeSpan(ttl)) : NoAddresses(query, response, type, records, ttl);
    }

    /// <summary>Sorts, de-duplicates and caps a round's endpoints into its successful (or, when empty, NODATA) result.</summary>
    public ResolutionResult Finish(ServiceName service, List<PodEndpoint> endpoints, TimeSpan ttl)
    {
        ImmutableArray<PodEndpoint> unique = PodEndpointOrder.SortUnique(endpoints);
        if (unique.Length < endpoints.Count)
        {
            ResolutionLog.DuplicatesDropped(logger, service.Value, endpoints.Count - unique.Length);
        }

        if (unique.Length > maxEndpoints)
        {
            ResolutionLog.EndpointsCapped(logger, service.Value, unique.Length, maxEndpoints, unique.Length - maxEndpoints);
            unique = unique.RemoveRange(maxEndpoints, unique.Length - maxEndpoints);
        }

        return ResolutionResult.FromSortedUnique(unique, ttl);
    }

    /// <summary>Logs what hygiene dropped and how many records belonged to other names, when anything was.</summary>
    public void Report(string name, in AddressHygiene hygiene, int foreign)
    {
        if (hygiene.Dropped > 0)
        {
            ResolutionLog.AddressesDropped(logger, name, hygiene.Unspecified, hygiene.Multicast, hygiene.Broadcast);
        }

        if (foreign > 0)
        {
            ResolutionLog.ForeignRecordsIgnored(logger, name, foreign);
        }
    }

    internal static bool TryFollowChain(IReadOnlyList<DnsResourceRecord> answers, string name, ref uint ttl, [NotNullWhen(true)] out List<string>? chain)
    {
        chain = [name];
        string current = name;
        for (int links = 0; ; links++)
        {
            CNameRecord? next = null;
            foreach (DnsResourceRecord record in answers)
            {
                if (record is CNameRecord cname && NameEquals(cname.DomainName, current))
                {
                    next = cname;
                    break;
                }
            }

            if (next is null)
            {
                return true;
            }

            current = TrimDot(next.CanonicalName.Value).ToLowerInvariant();
            if (links >= DnsResolver.MaxCnameChainLength || chain.Contains(current))
            {
                chain = null;
                return false;
            }

            chain.Add(current);
            ttl = Math.Min(ttl, Ttl(next));
        }
    }

    /// <summary>Whether <paramref name="owner"/> is <paramref name="name"/> or, when the answer had CNAMEs, a name of its chain.</summary>
    public static bool InChain(DnsString owner, string name, List<string>? chain)
    {
        if (chain is null)
        {
            return NameEquals(owner, name);
        }

        foreach (string link in chain)
        {
            if (NameEquals(owner, link))
            {
                return true;
            }
        }

        return false;
    }

    public static string TrimDot(string value) => value.EndsWith('.') ? value[..^1] : value;

    public static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    public static uint Ttl(DnsResourceRecord record) => (uint)Math.Max(0, record.InitialTimeToLive);

    /// <summary>Seconds as a TTL; <see cref="uint.MaxValue"/> (no record lowered it) is unknown: zero.</summary>
    public static TimeSpan ToTimeSpan(uint seconds) => seconds == uint.MaxValue ? TimeSpan.Zero : TimeSpan.FromSeconds(seconds);

    /// <summary>RFC 2308: the negative-caching TTL is the smaller of the SOA record's TTL and its MINIMUM field.</summary>
    public static TimeSpan NegativeTtl(IDnsQueryResponse response)
    {
        foreach (DnsResourceRecord record in response.Authorities)
        {
            if (record is SoaRecord soa)
            {
                return TimeSpan.FromSeconds(Math.Min(Ttl(soa), soa.Minimum));
            }
        }

        return TimeSpan.Zero;
    }

    private static AddressLookup NoAddresses(DnsQueryOutcome query, IDnsQueryResponse response, QueryType type, int records, uint ttl)
    {
        TimeSpan emptyTtl = records == 0 ? NegativeTtl(response) : ToTimeSpan(ttl);
        string why = records == 0
            ? $"{DnsErrorText.Describe(query)} returned no {type} records (NODATA)"
            : $"{DnsErrorText.Describe(query)} returned {records} {type} record(s), all dropped (unspecified, multicast or broadcast)";
        return AddressLookup.Empty(ResolutionOutcome.NoData, emptyTtl, DnsErrorText.Error(query, why, null, responseCode: 0, describeQuery: false));
    }

    /// <summary>Whether the answer holds a CNAME at all (most do not: then no chain is built).</summary>
    private static bool HasCname(IReadOnlyList<DnsResourceRecord> answers)
    {
        for (int i = 0; i < answers.Count; i++)
        {
            if (answers[i] is CNameRecord)
            {
                return true;
            }
        }

        return false;
    }

    private static bool NameEquals(DnsString owner, string name)
    {
        ReadOnlySpan<char> value = owner.Value.AsSpan();
        if (value.EndsWith('.'))
        {
            value = value[..^1];
        }

        return value.Equals(name, StringComparison.OrdinalIgnoreCase);
    }
}
