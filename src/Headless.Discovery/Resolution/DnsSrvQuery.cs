using System.Net;
using DnsClient;
using DnsClient.Protocol;
using Microsoft.Extensions.Logging;

namespace Headless.Discovery;

/// <summary>
/// One SRV round: the service's SRV records give each pod's port and hostname (a valid DNS name; its StatefulSet
/// ordinal comes with it); each target's addresses come from the answer's additional section when the server put
/// them there (CoreDNS does), else from follow-up address lookups, at most
/// <see cref="DnsResolver.SrvLookupParallelism"/> at once. A target whose lookup fails is skipped (logged); the
/// round fails only when no target yields an address and at least one lookup failed. Additional records and targets
/// are each indexed once by name, so a round costs O(records + additional records). Thread-safe.
/// </summary>
internal sealed class DnsSrvQuery(DnsQueryRunner runner, DnsAnswerReader reader, DnsAddressQuery addresses, DnsAddressFamily family, ILogger logger)
{
    // The family a preferred-family setting keeps when a target has it (decided once, not per target).
    private readonly System.Net.Sockets.AddressFamily? _preferred = family switch
    {
        DnsAddressFamily.IPv4Preferred => System.Net.Sockets.AddressFamily.InterNetwork,
        DnsAddressFamily.IPv6Preferred => System.Net.Sockets.AddressFamily.InterNetworkV6,
        _ => null,
    };

    public async ValueTask<ResolutionResult> ResolveAsync(ServiceName service, CancellationToken cancellationToken)
    {
        string name = service.Value;
        DnsQueryOutcome query = await runner.QueryAsync(name, QueryType.SRV, cancellationToken).ConfigureAwait(false);
        if (!DnsAnswerReader.TryGetAnswer(query, name, out IDnsQueryResponse? response, out AddressLookup? empty))
        {
            return empty.ToResult();
        }

        var targets = new SrvTargets();
        if (!reader.TryReadChain(query, response, name, ref targets.Ttl, out List<string>? chain, out Exception? error))
        {
            return ResolutionResult.Failed(error);
        }

        ReadTargets(response, name, chain, targets);
        if (targets.Records == 0)
        {
            return NoTargets(query, response, targets);
        }

        List<string> pending = AddFromAdditional(response, name, targets);
        (int failed, Exception? firstFailure) = pending.Count == 0
            ? (0, null)
            : await LookUpAsync(name, pending, targets, cancellationToken).ConfigureAwait(false);

        if (targets.Endpoints.Count > 0)
        {
            return reader.Finish(service, targets.Endpoints, DnsAnswerReader.ToTimeSpan(targets.Ttl));
        }

        return failed > 0
            ? ResolutionResult.Failed(DnsErrorText.SrvTargetsFailed(name, targets.Records, failed, firstFailure))
            : ResolutionResult.NoData(
                DnsAnswerReader.ToTimeSpan(targets.Ttl),
                DnsErrorText.Error(query, $"none of the {targets.Records} SRV target(s) of '{name}' has a usable address", null, 0, describeQuery: false));
    }

    /// <summary>Reads the service's SRV records into <paramref name="targets"/>, dropping foreign records and invalid targets.</summary>
    private void ReadTargets(IDnsQueryResponse response, string name, List<string>? chain, SrvTargets targets)
    {
        int foreign = 0;
        foreach (DnsResourceRecord record in response.Answers)
        {
            if (record is not SrvRecord srv)
            {
                continue;
            }

            if (!DnsAnswerReader.InChain(record.DomainName, name, chain))
            {
                foreign++;
                continue;
            }

            string target = DnsAnswerReader.TrimDot(srv.Target.Value);
            if (target.Length == 0)
            {
                // RFC 2782: a target of "." means the service is decidedly not available at this name.
                targets.Invalid++;
                ResolutionLog.SrvTargetInvalid(logger, name, ".", "the target '.' means the service is not available.");
                continue;
            }

            if (!ServiceName.TryParse(target, out ServiceName? parsed, out string? problem))
            {
                targets.Invalid++;
                ResolutionLog.SrvTargetInvalid(logger, name, target, problem);
                continue;
            }

            targets.Add(parsed.Value, srv.Port, DnsAnswerReader.Ttl(srv));
        }

        if (foreign > 0)
        {
            ResolutionLog.ForeignRecordsIgnored(logger, name, foreign);
        }
    }

    private static ResolutionResult NoTargets(DnsQueryOutcome query, IDnsQueryResponse response, SrvTargets targets) => targets.Invalid == 0
        ? ResolutionResult.NoData(
            DnsAnswerReader.NegativeTtl(response),
            DnsErrorText.Error(query, $"{DnsErrorText.Describe(query)} returned no SRV records (NODATA)", null, 0, describeQuery: false))
        : ResolutionResult.NoData(
            DnsAnswerReader.ToTimeSpan(targets.Ttl),
            DnsErrorText.Error(query, $"{DnsErrorText.Describe(query)} returned {targets.Invalid} SRV record(s), all with invalid targets", null, 0, describeQuery: false));

    /// <summary>
    /// Gives every target the addresses the server volunteered in the additional section (indexed once by owner name);
    /// returns the targets it had none for, in answer order, to be looked up.
    /// </summary>
    private List<string> AddFromAdditional(IDnsQueryResponse response, string name, SrvTargets targets)
    {
        var hygiene = new AddressHygiene();
        var additional = new Dictionary<string, List<(IPAddress Address, uint Ttl)>>(StringComparer.Ordinal);
        foreach (DnsResourceRecord record in response.Additionals)
        {
            IPAddress? address = record switch
            {
                ARecord a when family != DnsAddressFamily.IPv6 => a.Address,
                AaaaRecord aaaa when family != DnsAddressFamily.IPv4 => aaaa.Address,
                _ => null,
            };
            if (address is null || hygiene.Drop(address))
            {
                continue;
            }

            string owner = DnsAnswerReader.TrimDot(record.DomainName.Value).ToLowerInvariant();
            if (!additional.TryGetValue(owner, out List<(IPAddress, uint)>? list))
            {
                additional[owner] = list = [];
            }

            list.Add((DnsAnswerReader.Normalize(address), DnsAnswerReader.Ttl(record)));
        }

        var pending = new List<string>();
        foreach (string target in targets.Names)
        {
            if (!additional.TryGetValue(target, out List<(IPAddress Address, uint Ttl)>? list))
            {
                pending.Add(target);
                continue;
            }

            System.Net.Sockets.AddressFamily? only = PreferredPresent(list);
            foreach ((IPAddress address, uint ttl) in list)
            {
                if (only is null || address.AddressFamily == only)
                {
                    targets.AddEndpoints(target, address);
                    targets.Ttl = Math.Min(targets.Ttl, ttl);
                }
            }
        }

        reader.Report(name, hygiene, 0);
        return pending;
    }

    /// <summary>
    /// With a preferred family, the family to keep of a target's volunteered addresses: the preferred one when the target
    /// has any, else <see langword="null"/> (keep all, which are then all of the other family). Without one, <see langword="null"/>.
    /// </summary>
    private System.Net.Sockets.AddressFamily? PreferredPresent(List<(IPAddress Address, uint Ttl)> list) =>
        _preferred is { } preferred && list.Exists(a => a.Address.AddressFamily == preferred) ? preferred : null;

    /// <summary>Looks the <paramref name="pending"/> targets up and adds their endpoints; returns how many lookups failed, and the first failure.</summary>
    private async ValueTask<(int Failed, Exception? First)> LookUpAsync(string name, List<string> pending, SrvTargets targets, CancellationToken cancellationToken)
    {
        var lookups = new AddressLookup[pending.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, pending.Count),
            new ParallelOptions { MaxDegreeOfParallelism = DnsResolver.SrvLookupParallelism, CancellationToken = cancellationToken },
            async (i, token) => lookups[i] = await addresses.LookupAsync(name, pending[i], token).ConfigureAwait(false)).ConfigureAwait(false);

        int failed = 0;
        Exception? first = null;
        for (int i = 0; i < pending.Count; i++)
        {
            AddressLookup lookup = lookups[i];
            if (lookup.Outcome != ResolutionOutcome.Success)
            {
                if (lookup.Outcome == ResolutionOutcome.Failed)
                {
                    failed++;
                    first ??= lookup.Error;
                }

                ResolutionLog.SrvTargetUnresolved(logger, name, pending[i], lookup.Outcome, lookup.Error);
                continue;
            }

            targets.Ttl = Math.Min(targets.Ttl, (uint)Math.Min(uint.MaxValue, lookup.Ttl.TotalSeconds));
            foreach (IPAddress address in lookup.Addresses)
            {
                targets.AddEndpoints(pending[i], address);
            }
        }

        return (failed, first);
    }

    /// <summary>One round's SRV targets, indexed by name (each with the ports its records give), and the endpoints built so far.</summary>
    private sealed class SrvTargets
    {
        private readonly Dictionary<string, List<int>> _ports = new(StringComparer.Ordinal);

        /// <summary>The smallest TTL so far (records, then addresses); <see cref="uint.MaxValue"/> while none.</summary>
        public uint Ttl = uint.MaxValue;

        /// <summary>The distinct targets in answer order.</summary>
        public List<string> Names { get; } = [];

        /// <summary>The SRV records kept (a target may have several, one per port).</summary>
        public int Records { get; private set; }

        /// <summary>The SRV records dropped for an invalid target.</summary>
        public int Invalid { get; set; }

        public List<PodEndpoint> Endpoints { get; } = [];

        public void Add(string target, int port, uint ttl)
        {
            if (!_ports.TryGetValue(target, out List<int>? ports))
            {
                _ports[target] = ports = [];
                Names.Add(target);
            }

            ports.Add(port);
            Records++;
            Ttl = Math.Min(Ttl, ttl);
        }

        /// <summary>One endpoint per port of <paramref name="target"/> at <paramref name="address"/>.</summary>
        public void AddEndpoints(string target, IPAddress address)
        {
            foreach (int port in _ports[target])
            {
                Endpoints.Add(new PodEndpoint(address, port, target));
            }
        }
    }
}
