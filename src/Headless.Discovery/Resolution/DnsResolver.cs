using System.Diagnostics;
using DnsClient;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Headless.Discovery;

/// <summary>
/// The DNS resolver behind <see cref="DnsEndpointResolver"/> and every <c>HeadlessService</c> that resolves through DNS:
/// A/AAAA or SRV rounds with Polly timeouts and retries over the process's shared transport. The public facade documents
/// the behaviour; this type takes the Resolution room's own settings, read once in the constructor. Thread-safe.
/// </summary>
internal sealed class DnsResolver : IEndpointResolver
{
    /// <summary>The longest CNAME chain followed inside one answer: 8 links. A longer chain, or one that loops, fails the round.</summary>
    internal const int MaxCnameChainLength = 8;

    /// <summary>How many SRV target address lookups run at once: 8.</summary>
    internal const int SrvLookupParallelism = 8;

    /// <summary>The log category: <c>Headless.Discovery.DnsEndpointResolver</c>.</summary>
    internal const string LogCategory = "Headless.Discovery.DnsEndpointResolver";

    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly string[] _serverNames;
    private readonly string _serverList;
    private readonly bool _useSrv;
    private readonly string _recordType;
    private readonly DnsAddressQuery _addresses;
    private readonly AddressResultBuilder _addressResults;
    private readonly DnsSrvQuery _srv;

    /// <summary>Creates a resolver.</summary>
    /// <param name="options">The options; validated here and read once.</param>
    /// <param name="loggerFactory">Where to log (category <c>Headless.Discovery.DnsEndpointResolver</c>); <see langword="null"/> for no logging.</param>
    /// <param name="timeProvider">The clock for attempt timeouts, retry delays and durations; <see langword="null"/> for <see cref="TimeProvider.System"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">An option is invalid; the message names it.</exception>
    public DnsResolver(DnsEndpointResolverOptions options, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();

        // The category is the public facade's name: the one users filter on.
        _logger = loggerFactory?.CreateLogger(LogCategory) ?? NullLogger.Instance;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _useSrv = options.UseSrv;
        _recordType = _useSrv ? "SRV" : options.AddressFamily switch
        {
            DnsAddressFamily.IPv6 => "AAAA",
            DnsAddressFamily.Both => "A+AAAA",
            DnsAddressFamily.IPv4Preferred => "A (else AAAA)",
            DnsAddressFamily.IPv6Preferred => "AAAA (else A)",
            _ => "A",
        };

        List<NameServer> servers = DnsServerList.Resolve(options);
        _serverNames = servers.Select(DnsServerList.Format).ToArray();
        _serverList = _serverNames.Length == 0 ? "(no name servers)" : string.Join(", ", _serverNames);
        if (servers.Count == 0)
        {
            ResolutionLog.NoDnsServers(_logger);
        }

        // The client, pipelines and per-server gates are the process's, shared with every resolver that asks the same.
        DnsTransport transport = DnsTransport.For(servers, options.DnsAttemptTimeout, options.DnsRetryCount, options.DnsRetryBaseDelay, _timeProvider);
        var runner = new DnsQueryRunner(transport, _serverNames, options.DnsAttemptTimeout, _logger);
        var reader = new DnsAnswerReader(_logger, options.MaxEndpoints);
        _addresses = new DnsAddressQuery(runner, reader, options.AddressFamily, _logger);
        _addressResults = new AddressResultBuilder(reader, options.Port);
        _srv = new DnsSrvQuery(runner, reader, _addresses, options.AddressFamily, _logger);
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
        using Activity? activity = ResolutionTelemetry.Start(service, _recordType);
        ResolutionLog.Resolving(_logger, service.Value, _recordType, _serverList);

        ResolutionResult result;
        try
        {
            result = _useSrv
                ? await _srv.ResolveAsync(service, cancellationToken).ConfigureAwait(false)
                : _addressResults.ToResult(service, await _addresses.LookupAsync(service.Value, service.Value, cancellationToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            ResolutionTelemetry.Canceled(activity);
            throw;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Errors are returned, not thrown: a bug or surprise in answer handling must not kill the refresh loop.
            result = ResolutionResult.Failed(new DnsResolutionException($"Resolving '{service}' via {_serverList} failed unexpectedly: {ex.Message}", ex));
        }

        ResolutionTelemetry.Finished(_logger, service, result, _timeProvider.GetElapsedTime(started), activity);
        return result;
    }
}
