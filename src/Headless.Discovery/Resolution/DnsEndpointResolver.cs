using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using DnsClient;
using DnsClient.Protocol;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Headless.Discovery;

/// <summary>
/// Resolves a headless Service through DNS: A and/or AAAA records (one endpoint per address, port
/// <see cref="DnsEndpointResolverOptions.Port"/>), or SRV records (port and hostname per pod, addresses from the
/// additional section or follow-up lookups). One call is one resolution round.
/// </summary>
/// <remarks>
/// <para>
/// DnsClient sends the queries with its own cache, retries and timeout switched off; Polly owns both the per-attempt
/// timeout (<see cref="DnsEndpointResolverOptions.DnsAttemptTimeout"/>) and the retries
/// (<see cref="DnsEndpointResolverOptions.DnsRetryCount"/>, exponential backoff with jitter). The DnsClient client and the
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
/// not valid DNS names are dropped, CNAME chains are followed inside the answer for at most <see cref="MaxCnameChainLength"/>
/// links, records for other names are ignored, and at most <see cref="DnsEndpointResolverOptions.MaxEndpoints"/> endpoints
/// (the first in address order, so the choice is stable) are kept.
/// </para>
/// <para>
/// With <see cref="DnsAddressFamily.Both"/>, A and AAAA are queried in parallel and unioned; if either query fails
/// (after its retries) the round is <see cref="ResolutionOutcome.Failed"/> even if the other succeeded, because a partial
/// answer would silently remove every pod's other-family endpoints (and their health history) until the next round.
/// A family that answers NXDOMAIN or NODATA is simply empty. With SRV, a target whose address lookup fails is skipped
/// (logged); only when no target yields an address and at least one lookup failed is the round failed.
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
/// The options are read once, in the constructor. Thread-safe: one instance serves concurrent calls.
/// </para>
/// </remarks>
public sealed partial class DnsEndpointResolver : IEndpointResolver
{
    /// <summary>The longest CNAME chain followed inside one answer: 8 links.</summary>
    public const int MaxCnameChainLength = 8;

    /// <summary>How many SRV target address lookups run at once: 8.</summary>
    public const int SrvLookupParallelism = 8;

    internal const string ActivityName = "headless_discovery.resolve";
    internal const string RecordTypeTag = "record_type";
    internal const string EndpointCountTag = "endpoint_count";

    private static readonly ResiliencePropertyKey<AttemptState> StateKey = new("Headless.Discovery.DnsAttempt");

    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly DnsTransport _transport;
    private readonly DnsTransport.RetryObserver _onRetry;
    private readonly string[] _serverNames;
    private readonly string _serverList;
    private readonly DnsAddressFamily _family;
    private readonly bool _useSrv;
    private readonly int _port;
    private readonly int _maxEndpoints;
    private readonly TimeSpan _attemptTimeout;
    private readonly string _recordType;
    private volatile LastAnswer? _last;
    private volatile DnsQuestion? _lastQuestion;

    /// <summary>Creates a resolver.</summary>
    /// <param name="options">The options; validated here and read once.</param>
    /// <param name="logger">Where to log; <see langword="null"/> for no logging.</param>
    /// <param name="timeProvider">The clock for attempt timeouts, retry delays and durations; <see langword="null"/> for <see cref="TimeProvider.System"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">An option is invalid; the message names it.</exception>
    public DnsEndpointResolver(DnsEndpointResolverOptions options, ILogger<DnsEndpointResolver>? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();

        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _family = options.AddressFamily;
        _useSrv = options.UseSrv;
        _port = options.Port;
        _maxEndpoints = options.MaxEndpoints;
        _attemptTimeout = options.DnsAttemptTimeout;
        _recordType = _useSrv ? "SRV" : _family switch
        {
            DnsAddressFamily.IPv6 => "AAAA",
            DnsAddressFamily.Both => "A+AAAA",
            _ => "A",
        };

        List<NameServer> servers = ResolveServers(options);
        _serverNames = servers.Select(FormatServer).ToArray();
        _serverList = _serverNames.Length == 0 ? "(no name servers)" : string.Join(", ", _serverNames);
        if (servers.Count == 0)
        {
            Log.NoDnsServers(_logger);
        }

        // The client, pipelines and per-server gates are the process's, shared with every resolver that asks the same.
        _transport = DnsTransport.For(servers, options.DnsAttemptTimeout, options.DnsRetryCount, options.DnsRetryBaseDelay, _timeProvider);
        _onRetry = LogRetry;
    }

    /// <summary>The name servers queried, as <c>ip:port</c>, in the order attempts use them.</summary>
    public IReadOnlyList<string> DnsServers => _serverNames;

    /// <inheritdoc/>
    /// <remarks>
    /// Returns <see cref="ResolutionOutcome.Failed"/> with a <see cref="DnsResolutionException"/> for timeouts, transport
    /// errors, SERVFAIL/REFUSED and malformed answers; <see cref="ResolutionOutcome.NotFound"/> for NXDOMAIN;
    /// <see cref="ResolutionOutcome.NoData"/> for an empty answer or one whose records were all dropped. Thread-safe.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="service"/> is <see langword="null"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async ValueTask<ResolutionResult> ResolveAsync(ServiceName service, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(service);
        cancellationToken.ThrowIfCancellationRequested();

        long started = _timeProvider.GetTimestamp();
        using Activity? activity = DiscoveryTelemetry.ActivitySource.StartActivity(ActivityName, ActivityKind.Client);
        activity?.SetTag(DiscoveryTelemetry.ServiceTag, service.Value);
        activity?.SetTag(RecordTypeTag, _recordType);
        Log.Resolving(_logger, service.Value, _recordType, _serverList);

        ResolutionResult result;
        try
        {
            result = _useSrv
                ? await ResolveSrvAsync(service, cancellationToken).ConfigureAwait(false)
                : ToResult(service, await LookupFamiliesAsync(service.Value, service.Value, cancellationToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            activity?.SetTag(DiscoveryTelemetry.OutcomeTag, "canceled");
            throw;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Errors are returned, not thrown: a bug or surprise in answer handling must not kill the refresh loop.
            result = ResolutionResult.Failed(new DnsResolutionException($"Resolving '{service}' via {_serverList} failed unexpectedly: {ex.Message}", ex));
        }

        Finished(service, result, _timeProvider.GetElapsedTime(started), activity);
        return result;
    }

    /// <summary>Telemetry and logs for a finished round; not in the async method, so its state machine stays small.</summary>
    private void Finished(ServiceName service, ResolutionResult result, TimeSpan elapsed, Activity? activity)
    {
        string outcome = OutcomeName(result.Outcome);
        var tags = new TagList
        {
            { DiscoveryTelemetry.ServiceTag, service.Value },
            { DiscoveryTelemetry.OutcomeTag, outcome },
        };
        DiscoveryTelemetry.ResolutionDuration.Record(elapsed.TotalSeconds, tags);
        if (result.Outcome == ResolutionOutcome.Failed)
        {
            DiscoveryTelemetry.ResolutionErrors.Add(1, tags);
            Log.ResolutionFailed(_logger, service.Value, result.Error?.Message ?? "unknown error", result.Error?.InnerException);
        }

        if (activity is not null)
        {
            activity.SetTag(DiscoveryTelemetry.OutcomeTag, outcome);
            activity.SetTag(EndpointCountTag, result.Endpoints.Length);
            if (result.Outcome == ResolutionOutcome.Failed)
            {
                activity.SetStatus(ActivityStatusCode.Error, result.Error?.Message);
            }
        }

        Log.Resolved(_logger, service.Value, result.Outcome, result.Endpoints.Length, result.Ttl.TotalSeconds, elapsed.TotalMilliseconds);
    }

    internal static string OutcomeName(ResolutionOutcome outcome) => outcome switch
    {
        ResolutionOutcome.Success => "success",
        ResolutionOutcome.NotFound => "not_found",
        ResolutionOutcome.NoData => "no_data",
        _ => "failed",
    };

    // ---- A / AAAA ----

    /// <summary>The round's result from its A/AAAA lookup (not async itself: one state machine less per round).</summary>
    private ResolutionResult ToResult(ServiceName service, AddressLookup lookup)
    {
        switch (lookup.Outcome)
        {
            case ResolutionOutcome.Failed:
                return ResolutionResult.Failed(lookup.Error!);
            case ResolutionOutcome.NotFound:
                return ResolutionResult.NotFound(lookup.Ttl, lookup.Error);
            case ResolutionOutcome.NoData:
                return ResolutionResult.NoData(lookup.Ttl, lookup.Error);
        }

        // An unchanged answer is made of the endpoints the last one made: no PodEndpoint is allocated for a pod that
        // was already there (the refresh that changes nothing then allocates little beyond DnsClient's own answer).
        LastAnswer? last = _last;
        ImmutableArray<PodEndpoint> previous = last is not null && last.Service.Equals(service) ? last.Endpoints : [];
        if (IsSameAnswer(previous, lookup.Addresses, _port))
        {
            return ResolutionResult.FromSortedUnique(previous, lookup.Ttl);
        }

        var endpoints = new List<PodEndpoint>(lookup.Addresses.Count);
        foreach (IPAddress address in lookup.Addresses)
        {
            int found = FindIPv4(previous, address, _port);
            endpoints.Add(found >= 0 ? previous[found] : new PodEndpoint(address, _port));
        }

        ResolutionResult result = Finish(service, endpoints, lookup.Ttl);
        if (result.Outcome == ResolutionOutcome.Success && !SameInstances(previous, result.Endpoints))
        {
            _last = new LastAnswer(service, result.Endpoints);
        }

        return result;
    }

    private static bool SameInstances(ImmutableArray<PodEndpoint> previous, ImmutableArray<PodEndpoint> current)
    {
        if (previous.Length != current.Length)
        {
            return false;
        }

        for (int i = 0; i < current.Length; i++)
        {
            if (!ReferenceEquals(previous[i], current[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Whether <paramref name="addresses"/> (with <paramref name="port"/>) are exactly the endpoints of
    /// <paramref name="previous"/>, each once: then the previous sorted array is this answer too, and nothing is built.
    /// </summary>
    internal static bool IsSameAnswer(ImmutableArray<PodEndpoint> previous, List<IPAddress> addresses, int port)
    {
        if (previous.IsDefaultOrEmpty || addresses.Count != previous.Length)
        {
            return false;
        }

        Span<bool> seen = previous.Length <= 1024 ? stackalloc bool[previous.Length] : new bool[previous.Length];
        foreach (IPAddress address in addresses)
        {
            int found = FindIPv4(previous, address, port);
            if (found < 0 || seen[found])
            {
                return false;
            }

            seen[found] = true;
        }

        return true;
    }

    /// <summary>The index in <paramref name="previous"/> (sorted, A/AAAA only) of this IPv4 address and port, or -1.</summary>
    internal static int FindIPv4(ImmutableArray<PodEndpoint> previous, IPAddress address, int port)
    {
        if (previous.IsDefaultOrEmpty || address.AddressFamily != AddressFamily.InterNetwork)
        {
            return -1;
        }

        Span<byte> bytes = stackalloc byte[4];
        address.TryWriteBytes(bytes, out _);
        ulong wanted = ((ulong)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes) << 16) | (uint)port;

        // IPv4 endpoints without a hostname sort first, by this key; IPv6 ones (no key) after them all.
        int low = 0, high = previous.Length - 1;
        while (low <= high)
        {
            int middle = low + ((high - low) >> 1);
            PodEndpoint candidate = previous[middle];
            if (!candidate.TryGetSortKey(out ulong key) || key > wanted)
            {
                high = middle - 1;
            }
            else if (key < wanted)
            {
                low = middle + 1;
            }
            else
            {
                return middle;
            }
        }

        return -1;
    }

    /// <summary>Looks up the configured families for <paramref name="name"/>, combining A and AAAA for <see cref="DnsAddressFamily.Both"/>.</summary>
    /// <remarks>Not async itself for a single family: one state machine less per round.</remarks>
    private ValueTask<AddressLookup> LookupFamiliesAsync(string service, string name, CancellationToken cancellationToken) => _family switch
    {
        DnsAddressFamily.IPv4 => LookupAsync(name, QueryType.A, cancellationToken),
        DnsAddressFamily.IPv6 => LookupAsync(name, QueryType.AAAA, cancellationToken),
        _ => LookupBothAsync(service, name, cancellationToken),
    };

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
                Log.AddressFamilyFailed(_logger, service, v4Failed ? "A" : "AAAA", v4Failed ? v6.Outcome : v4.Outcome);
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
            ? new AddressLookup(ResolutionOutcome.NotFound, [], emptyTtl, v4.Error)
            : new AddressLookup(ResolutionOutcome.NoData, [], emptyTtl, v4.Outcome == ResolutionOutcome.NoData ? v4.Error : v6.Error);
    }

    /// <summary>One A or AAAA lookup with retries, CNAME following and address hygiene.</summary>
    private async ValueTask<AddressLookup> LookupAsync(string name, QueryType type, CancellationToken cancellationToken)
    {
        QueryOutcome query = await QueryAsync(name, type, cancellationToken).ConfigureAwait(false);
        if (!TryGetAnswer(query, name, out IDnsQueryResponse? response, out AddressLookup? empty))
        {
            return empty;
        }

        uint ttl = uint.MaxValue;
        List<string>? chain = null;
        if (HasCname(response.Answers) && !TryFollowChain(response.Answers, name, ref ttl, out chain))
        {
            Log.CnameChainTooLong(_logger, name, MaxCnameChainLength);
            return AddressLookup.Failed(Error(query, $"the answer's CNAME chain is longer than {MaxCnameChainLength} links or loops", null));
        }

        var hygiene = new Hygiene();
        int capacity = response.Answers.Count;
        var addresses = new List<IPAddress>(capacity);
        int foreign = 0;
        int records = 0;
        IReadOnlyList<DnsResourceRecord> answers = response.Answers;
        for (int i = 0; i < answers.Count; i++)
        {
            DnsResourceRecord record = answers[i];
            IPAddress? address = type == QueryType.A
                ? (record as ARecord)?.Address
                : (record as AaaaRecord)?.Address;
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
            if (hygiene.Drop(address))
            {
                continue;
            }

            ttl = Math.Min(ttl, Ttl(record));
            addresses.Add(Normalize(address));
        }

        Report(name, hygiene, foreign);

        if (addresses.Count == 0)
        {
            TimeSpan emptyTtl = records == 0 ? NegativeTtl(response) : ToTimeSpan(ttl);
            string why = records == 0
                ? $"{Describe(query)} returned no {type} records (NODATA)"
                : $"{Describe(query)} returned {records} {type} record(s), all dropped (unspecified, multicast or broadcast)";
            return new AddressLookup(ResolutionOutcome.NoData, [], emptyTtl, Error(query, why, null, responseCode: 0, describeQuery: false));
        }

        return AddressLookup.Success(addresses, ToTimeSpan(ttl));
    }

    // ---- SRV ----

    private async ValueTask<ResolutionResult> ResolveSrvAsync(ServiceName service, CancellationToken cancellationToken)
    {
        string name = service.Value;
        QueryOutcome query = await QueryAsync(name, QueryType.SRV, cancellationToken).ConfigureAwait(false);
        if (!TryGetAnswer(query, name, out IDnsQueryResponse? response, out AddressLookup? empty))
        {
            return empty.ToResult();
        }

        uint ttl = uint.MaxValue;
        List<string>? chain = null;
        if (HasCname(response.Answers) && !TryFollowChain(response.Answers, name, ref ttl, out chain))
        {
            Log.CnameChainTooLong(_logger, name, MaxCnameChainLength);
            return ResolutionResult.Failed(Error(query, $"the answer's CNAME chain is longer than {MaxCnameChainLength} links or loops", null));
        }

        var srvRecords = new List<(SrvRecord Record, string Target)>();
        int foreign = 0;
        int invalid = 0;
        foreach (DnsResourceRecord record in response.Answers)
        {
            if (record is not SrvRecord srv)
            {
                continue;
            }

            if (!InChain(record.DomainName, name, chain))
            {
                foreign++;
                continue;
            }

            string target = TrimDot(srv.Target.Value);
            if (target.Length == 0)
            {
                // RFC 2782: a target of "." means the service is decidedly not available at this name.
                invalid++;
                Log.SrvTargetInvalid(_logger, name, ".", "the target '.' means the service is not available.");
                continue;
            }

            if (!ServiceName.TryParse(target, out ServiceName? parsed, out string? error))
            {
                invalid++;
                Log.SrvTargetInvalid(_logger, name, target, error);
                continue;
            }

            srvRecords.Add((srv, parsed.Value));
            ttl = Math.Min(ttl, Ttl(srv));
        }

        if (foreign > 0)
        {
            Log.ForeignRecordsIgnored(_logger, name, foreign);
        }

        if (srvRecords.Count == 0)
        {
            return invalid == 0
                ? ResolutionResult.NoData(NegativeTtl(response), Error(query, $"{Describe(query)} returned no SRV records (NODATA)", null, 0, describeQuery: false))
                : ResolutionResult.NoData(ToTimeSpan(ttl), Error(query, $"{Describe(query)} returned {invalid} SRV record(s), all with invalid targets", null, 0, describeQuery: false));
        }

        // Addresses the server volunteered in the additional section, by owner name.
        var hygiene = new Hygiene();
        var additional = new Dictionary<string, List<(IPAddress Address, uint Ttl)>>(StringComparer.Ordinal);
        foreach (DnsResourceRecord record in response.Additionals)
        {
            IPAddress? address = record switch
            {
                ARecord a when _family != DnsAddressFamily.IPv6 => a.Address,
                AaaaRecord aaaa when _family != DnsAddressFamily.IPv4 => aaaa.Address,
                _ => null,
            };
            if (address is null || hygiene.Drop(address))
            {
                continue;
            }

            string owner = TrimDot(record.DomainName.Value).ToLowerInvariant();
            if (!additional.TryGetValue(owner, out List<(IPAddress, uint)>? list))
            {
                additional[owner] = list = [];
            }

            list.Add((Normalize(address), Ttl(record)));
        }

        var endpoints = new List<PodEndpoint>(srvRecords.Count);
        var pending = new List<string>();
        foreach ((SrvRecord srv, string target) in srvRecords)
        {
            if (additional.TryGetValue(target, out List<(IPAddress Address, uint Ttl)>? list))
            {
                foreach ((IPAddress address, uint addressTtl) in list)
                {
                    endpoints.Add(new PodEndpoint(address, srv.Port, target));
                    ttl = Math.Min(ttl, addressTtl);
                }
            }
            else if (!pending.Contains(target))
            {
                pending.Add(target);
            }
        }

        Report(name, hygiene, 0);

        int failedTargets = 0;
        Exception? firstFailure = null;
        if (pending.Count > 0)
        {
            var lookups = new AddressLookup[pending.Count];
            await Parallel.ForEachAsync(
                Enumerable.Range(0, pending.Count),
                new ParallelOptions { MaxDegreeOfParallelism = SrvLookupParallelism, CancellationToken = cancellationToken },
                async (i, token) => lookups[i] = await LookupFamiliesAsync(name, pending[i], token).ConfigureAwait(false)).ConfigureAwait(false);

            for (int i = 0; i < pending.Count; i++)
            {
                AddressLookup lookup = lookups[i];
                if (lookup.Outcome != ResolutionOutcome.Success)
                {
                    if (lookup.Outcome == ResolutionOutcome.Failed)
                    {
                        failedTargets++;
                        firstFailure ??= lookup.Error;
                    }

                    Log.SrvTargetUnresolved(_logger, name, pending[i], lookup.Outcome, lookup.Error);
                    continue;
                }

                ttl = Math.Min(ttl, (uint)Math.Min(uint.MaxValue, lookup.Ttl.TotalSeconds));
                foreach ((SrvRecord srv, string target) in srvRecords)
                {
                    if (string.Equals(target, pending[i], StringComparison.Ordinal))
                    {
                        foreach (IPAddress address in lookup.Addresses)
                        {
                            endpoints.Add(new PodEndpoint(address, srv.Port, target));
                        }
                    }
                }
            }
        }

        if (endpoints.Count == 0)
        {
            if (failedTargets > 0)
            {
                return ResolutionResult.Failed(new DnsResolutionException(
                    $"Resolving '{name}': none of the {srvRecords.Count} SRV target(s) could be resolved to an address; {failedTargets} lookup(s) failed, the first with: {firstFailure?.Message}",
                    firstFailure));
            }

            return ResolutionResult.NoData(ToTimeSpan(ttl), Error(query, $"none of the {srvRecords.Count} SRV target(s) of '{name}' has a usable address", null, 0, describeQuery: false));
        }

        return Finish(service, endpoints, ToTimeSpan(ttl));
    }

    // ---- shared ----

    private ResolutionResult Finish(ServiceName service, List<PodEndpoint> endpoints, TimeSpan ttl)
    {
        var unique = EndpointSet.SortUnique(endpoints);
        if (unique.Length < endpoints.Count)
        {
            Log.DuplicatesDropped(_logger, service.Value, endpoints.Count - unique.Length);
        }

        if (unique.Length > _maxEndpoints)
        {
            Log.EndpointsCapped(_logger, service.Value, unique.Length, _maxEndpoints, unique.Length - _maxEndpoints);
            unique = unique.RemoveRange(_maxEndpoints, unique.Length - _maxEndpoints);
        }

        return ResolutionResult.FromSortedUnique(unique, ttl);
    }

    /// <summary>
    /// Turns a query outcome into an answer to read, or into the empty/failed lookup to return: NXDOMAIN is
    /// <see cref="ResolutionOutcome.NotFound"/>, any other error RCODE and any exception <see cref="ResolutionOutcome.Failed"/>.
    /// </summary>
    private bool TryGetAnswer(
        QueryOutcome query,
        string name,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IDnsQueryResponse? response,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out AddressLookup? empty)
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
            empty = new AddressLookup(
                ResolutionOutcome.NotFound,
                [],
                NegativeTtl(r),
                Error(query, $"{Describe(query)} answered NXDOMAIN: '{name}' does not exist", null, (int)code, describeQuery: false));
            return false;
        }

        if (code != DnsHeaderResponseCode.NoError)
        {
            empty = AddressLookup.Failed(Error(query, $"{Describe(query)} answered {RcodeName(code)} after {query.State.Attempts} attempt(s)", null, (int)code, describeQuery: false));
            return false;
        }

        response = r;
        return true;
    }

    private async ValueTask<QueryOutcome> QueryAsync(string name, QueryType type, CancellationToken cancellationToken)
    {
        var state = new AttemptState(this, Question(name, type), name, type);
        if (_transport.Client is null)
        {
            return new QueryOutcome(state, null, new DnsResolutionException(
                $"Cannot resolve '{name}' ({type}): no DNS name servers are configured and none were found in the system configuration.",
                null,
                name,
                type.ToString(),
                [],
                0,
                null,
                false));
        }

        ResilienceContext context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(StateKey, state);
        context.Properties.Set(DnsTransport.ObserverKey, _onRetry);

        NameServerGate.Slot slot = default;
        try
        {
            // A slot of the first name server's gate for the whole query (its retries included), taken before any
            // attempt timeout starts: waiting for a slot is not an attempt's time.
            DnsTransport transport = _transport;
            slot = await transport.Gate!.EnterAsync(transport.Patience, transport.TimeProvider, cancellationToken).ConfigureAwait(false);
            if (!slot.IsTaken)
            {
                string busy = string.Create(
                    CultureInfo.InvariantCulture,
                    $"DNS {type} query for '{name}' was not sent: {NameServerGate.MaxInFlight} queries from this process to {_serverNames[0]} were in flight for {transport.Patience.TotalMilliseconds:0.###} ms (as long as this query's attempts could take); the server is slow or down.");
                return new QueryOutcome(state, null, new DnsResolutionException(
                    busy, new TimeoutException(busy), name, type.ToString(), [_serverNames[0]], 0, null, true));
            }

            IDnsQueryResponse response = await _transport.Pipeline.ExecuteAsync(
                static (ctx, s) => s.Owner.AttemptAsync(s, ctx.CancellationToken),
                context,
                state).ConfigureAwait(false);
            return new QueryOutcome(state, response, null);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (TimeoutRejectedException ex)
        {
            string message = string.Create(
                CultureInfo.InvariantCulture,
                $"DNS {type} query for '{name}' timed out: {state.Attempts} attempt(s) of {_attemptTimeout.TotalMilliseconds:0.###} ms each to {state.TriedServers(_serverNames)} got no answer.");
            return new QueryOutcome(state, null, new DnsResolutionException(
                message, new TimeoutException(message, ex), name, type.ToString(), state.TriedServerList(_serverNames), state.Attempts, null, true));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return new QueryOutcome(state, null, Error(new QueryOutcome(state, null, null), $"failed: {ex.Message}", ex));
        }
        finally
        {
            slot.Dispose();
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private async ValueTask<IDnsQueryResponse> AttemptAsync(AttemptState state, CancellationToken cancellationToken)
    {
        DnsTransport transport = _transport;
        int index = state.Attempts % transport.Servers.Length;
        state.Attempts++;
        state.LastServer = index;
        state.Tried |= 1UL << (index & 63);
        try
        {
            return await transport.Client!.QueryServerAsync(transport.Servers[index], state.Question, cancellationToken).ConfigureAwait(false);
        }
        catch (DnsResponseException) when (cancellationToken.IsCancellationRequested)
        {
            // DnsClient reports a cancelled query as a timeout. Surface it as a cancellation so Polly can tell its own
            // attempt timeout (TimeoutRejectedException) from the caller's cancellation (OperationCanceledException).
            throw new OperationCanceledException(cancellationToken);
        }
        catch (DnsResponseException ex) when (IsTruncated(ex))
        {
            // Asked again below, over TCP, within this attempt's time and to the same server.
        }

        // A connection of its own, closed when the query ends: DnsClient's TCP fallback would reuse a pooled one,
        // which can answer from before the change (dnsmasq) and stays open between rounds (see DnsTcpQuery).
        return await DnsTcpQuery.QueryAsync(transport.Servers[index][0], transport.EndPoints[index], state.Name, state.Type, transport.QuerySettings, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// DnsClient 1.8 with <see cref="DnsQueryOptions.UseTcpFallback"/> off reports a truncated UDP answer (or a UDP
    /// answer too short to parse, which it treats alike) as an <see cref="DnsResponseCode.Unassigned"/> error without
    /// an inner exception; its other <see cref="DnsResponseCode.Unassigned"/> errors wrap the exception that caused them.
    /// </summary>
    private static bool IsTruncated(DnsResponseException ex) => ex.Code == DnsResponseCode.Unassigned && ex.InnerException is null;

    private void LogRetry(ResilienceContext context, int attempt, Outcome<IDnsQueryResponse> outcome, TimeSpan delay)
    {
        if (_logger.IsEnabled(LogLevel.Debug) && context.Properties.TryGetValue(StateKey, out AttemptState? state))
        {
            string type = state.Type.ToString();
            string reason = DescribeOutcome(outcome);
            Log.Retrying(_logger, type, state.Name, _serverNames[state.LastServer], attempt, reason, delay.TotalMilliseconds);
        }
    }

    /// <summary>Timeouts, transport errors, SERVFAIL and REFUSED are worth another attempt; NXDOMAIN, NODATA and parse errors are not.</summary>
    internal static bool IsTransient(Outcome<IDnsQueryResponse> outcome) => outcome.Exception switch
    {
        null => outcome.Result?.Header.ResponseCode is DnsHeaderResponseCode.ServerFailure or DnsHeaderResponseCode.Refused,
        TimeoutRejectedException or TimeoutException or SocketException or IOException => true,
        DnsResponseException ex => ex.Code is DnsResponseCode.ConnectionTimeout or DnsResponseCode.Unassigned
            || ex.InnerException is SocketException or IOException or TimeoutException,
        _ => false,
    };

    private static string DescribeOutcome(Outcome<IDnsQueryResponse> outcome) => outcome.Exception switch
    {
        null => outcome.Result is null ? "no answer" : RcodeName(outcome.Result.Header.ResponseCode),
        TimeoutRejectedException => "timed out",
        Exception ex => ex.Message,
    };

    private static List<NameServer> ResolveServers(DnsEndpointResolverOptions options)
    {
        var servers = new List<NameServer>();
        if (options.DnsServers.Count > 0)
        {
            foreach (string text in options.DnsServers)
            {
                // Validate() has already checked every entry.
                if (DnsEndpointResolverOptions.TryParseDnsServer(text, out IPEndPoint? endPoint))
                {
                    AddUnique(servers, new NameServer(endPoint));
                }
            }

            return servers;
        }

        try
        {
            foreach (NameServer server in NameServer.ResolveNameServers(skipIPv6SiteLocal: true, fallbackToGooglePublicDns: false))
            {
                AddUnique(servers, server);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // No system configuration readable: the resolver logs and fails each round instead of guessing public DNS.
        }

        return servers;

        static void AddUnique(List<NameServer> list, NameServer server)
        {
            if (!list.Any(s => s.Equals(server)))
            {
                list.Add(server);
            }
        }
    }

    internal static bool TryFollowChain(IReadOnlyList<DnsResourceRecord> answers, string name, ref uint ttl, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out List<string>? chain)
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
            if (links >= MaxCnameChainLength || chain.Contains(current))
            {
                chain = null;
                return false;
            }

            chain.Add(current);
            ttl = Math.Min(ttl, Ttl(next));
        }
    }

    /// <summary>Whether <paramref name="owner"/> is <paramref name="name"/> or, when the answer had CNAMEs, a name of its chain.</summary>
    private static bool InChain(DnsString owner, string name, List<string>? chain)
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

    private static string TrimDot(string value) => value.EndsWith('.') ? value[..^1] : value;

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private static uint Ttl(DnsResourceRecord record) => (uint)Math.Max(0, record.InitialTimeToLive);

    private static TimeSpan ToTimeSpan(uint seconds) => seconds == uint.MaxValue ? TimeSpan.Zero : TimeSpan.FromSeconds(seconds);

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>RFC 2308: the negative-caching TTL is the smaller of the SOA record's TTL and its MINIMUM field.</summary>
    private static TimeSpan NegativeTtl(IDnsQueryResponse response)
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

    private static string RcodeName(DnsHeaderResponseCode code) => code switch
    {
        DnsHeaderResponseCode.ServerFailure => "SERVFAIL",
        DnsHeaderResponseCode.Refused => "REFUSED",
        DnsHeaderResponseCode.NotExistentDomain => "NXDOMAIN",
        DnsHeaderResponseCode.FormatError => "FORMERR",
        DnsHeaderResponseCode.NotImplemented => "NOTIMP",
        _ => string.Create(CultureInfo.InvariantCulture, $"RCODE {(int)code}"),
    };

    private string Describe(QueryOutcome query) =>
        $"DNS {query.State.Type} query for '{query.State.Name}' to {query.State.TriedServers(_serverNames)}";

    private DnsResolutionException Error(QueryOutcome query, string what, Exception? inner, int? responseCode = null, bool describeQuery = true)
    {
        string message = describeQuery
            ? string.Create(CultureInfo.InvariantCulture, $"{Describe(query)} {what} (after {query.State.Attempts} attempt(s)).")
            : what + ".";
        return new DnsResolutionException(
            message,
            inner,
            query.State.Name,
            query.State.Type.ToString(),
            query.State.TriedServerList(_serverNames),
            query.State.Attempts,
            responseCode,
            false);
    }

    private void Report(string name, in Hygiene hygiene, int foreign)
    {
        if (hygiene.Dropped > 0)
        {
            Log.AddressesDropped(_logger, name, hygiene.Unspecified, hygiene.Multicast, hygiene.Broadcast);
        }

        if (foreign > 0)
        {
            Log.ForeignRecordsIgnored(_logger, name, foreign);
        }
    }

    private static string FormatServer(NameServer server) =>
        IPAddress.TryParse(server.Address, out IPAddress? address)
            ? FormatEndPoint(new IPEndPoint(address, server.Port))
            : server.ToString();

    private static string FormatEndPoint(IPEndPoint endPoint) =>
        endPoint.AddressFamily == AddressFamily.InterNetworkV6
            ? string.Create(CultureInfo.InvariantCulture, $"[{endPoint.Address}]:{endPoint.Port}")
            : string.Create(CultureInfo.InvariantCulture, $"{endPoint.Address}:{endPoint.Port}");

    /// <summary>Counts addresses dropped because they can never be a pod.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1815", Justification = "A counter kept in one method, never compared.")]
    internal struct Hygiene
    {
        public int Unspecified { get; private set; }

        public int Multicast { get; private set; }

        public int Broadcast { get; private set; }

        public int Dropped => Unspecified + Multicast + Broadcast;

        /// <summary>Returns <see langword="true"/> (and counts it) when <paramref name="address"/> must be dropped.</summary>
        public bool Drop(IPAddress address)
        {
            switch (Classify(address))
            {
                case AddressProblem.Unspecified:
                    Unspecified++;
                    return true;
                case AddressProblem.Multicast:
                    Multicast++;
                    return true;
                case AddressProblem.Broadcast:
                    Broadcast++;
                    return true;
                default:
                    return false;
            }
        }

        internal static AddressProblem Classify(IPAddress address)
        {
            if (address.IsIPv4MappedToIPv6)
            {
                address = address.MapToIPv4();
            }

            if (address.AddressFamily == AddressFamily.InterNetwork)
            {
                Span<byte> bytes = stackalloc byte[4];
                address.TryWriteBytes(bytes, out _);
                if (bytes[0] == 0 && bytes[1] == 0 && bytes[2] == 0 && bytes[3] == 0)
                {
                    return AddressProblem.Unspecified;
                }

                if (bytes[0] == 255 && bytes[1] == 255 && bytes[2] == 255 && bytes[3] == 255)
                {
                    return AddressProblem.Broadcast;
                }

                return bytes[0] is >= 224 and <= 239 ? AddressProblem.Multicast : AddressProblem.None;
            }

            if (address.Equals(IPAddress.IPv6Any))
            {
                return AddressProblem.Unspecified;
            }

            return address.IsIPv6Multicast ? AddressProblem.Multicast : AddressProblem.None;
        }
    }

    internal enum AddressProblem
    {
        None,
        Unspecified,
        Multicast,
        Broadcast,
    }

    /// <summary>Per-query mutable state shared by the attempts of one pipeline execution (attempts are sequential).</summary>
    private sealed class AttemptState(DnsEndpointResolver owner, DnsQuestion question, string name, QueryType type)
    {
        public DnsEndpointResolver Owner { get; } = owner;

        public DnsQuestion Question { get; } = question;

        public string Name { get; } = name;

        public QueryType Type { get; } = type;

        public int Attempts { get; set; }

        public int LastServer { get; set; }

        public ulong Tried { get; set; }

        public IReadOnlyList<string> TriedServerList(string[] names)
        {
            var list = new List<string>();
            for (int i = 0; i < names.Length; i++)
            {
                if ((Tried & (1UL << (i & 63))) != 0)
                {
                    list.Add(names[i]);
                }
            }

            return list.Count == 0 ? names : list;
        }

        public string TriedServers(string[] names) => string.Join(", ", TriedServerList(names));
    }

    /// <summary>The endpoints of the last successful A/AAAA answer, and for which service.</summary>
    private sealed class LastAnswer(ServiceName service, ImmutableArray<PodEndpoint> endpoints)
    {
        public ServiceName Service { get; } = service;

        public ImmutableArray<PodEndpoint> Endpoints { get; } = endpoints;
    }

    /// <summary>The question for <paramref name="name"/>: the last one asked when it is the same (every round asks the same).</summary>
    private DnsQuestion Question(string name, QueryType type)
    {
        DnsQuestion? last = _lastQuestion;
        if (last is not null && last.QuestionType == type && string.Equals(last.QueryName.Original, name, StringComparison.Ordinal))
        {
            return last;
        }

        var question = new DnsQuestion(name, type, QueryClass.IN);
        if (type is QueryType.A or QueryType.SRV)
        {
            _lastQuestion = question;
        }

        return question;
    }

    private readonly record struct QueryOutcome(AttemptState State, IDnsQueryResponse? Response, Exception? Error);

    private sealed class AddressLookup(ResolutionOutcome outcome, List<IPAddress> addresses, TimeSpan ttl, Exception? error)
    {
        public ResolutionOutcome Outcome { get; } = outcome;

        public List<IPAddress> Addresses { get; } = addresses;

        public TimeSpan Ttl { get; } = ttl;

        public Exception? Error { get; } = error;

        public static AddressLookup Success(List<IPAddress> addresses, TimeSpan ttl) => new(ResolutionOutcome.Success, addresses, ttl, null);

        public static AddressLookup Failed(Exception error) => new(ResolutionOutcome.Failed, [], TimeSpan.Zero, error);

        public ResolutionResult ToResult() => Outcome switch
        {
            ResolutionOutcome.NotFound => ResolutionResult.NotFound(Ttl, Error),
            ResolutionOutcome.NoData => ResolutionResult.NoData(Ttl, Error),
            ResolutionOutcome.Failed => ResolutionResult.Failed(Error!),
            _ => throw new InvalidOperationException("A successful lookup has no empty result."),
        };
    }
}
