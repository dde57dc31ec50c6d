using System.Globalization;
using Grpc.Core;
using Grpc.Net.Client.Balancer;
using Microsoft.Extensions.Logging;

namespace Headless.Discovery.Grpc;

/// <summary>
/// Feeds a gRPC channel the available pods of one headless service: the current snapshot when started, then every
/// published change (DNS churn, health, ejection), newest version only and one at a time. The channel's re-resolve
/// requests (a subchannel failed) become <see cref="IHeadlessService.RequestRefresh"/>, which the service rate-limits.
/// </summary>
internal sealed partial class HeadlessResolver : Resolver
{
    private readonly IHeadlessService _service;
    private readonly IAsyncDisposable? _owned;
    private readonly int _defaultPort;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private Action<ResolverResult>? _listener;
    private long _reported = -1;
    private bool _hadPods;
    private bool _disposed;

    /// <param name="service">The service whose pods the channel balances over.</param>
    /// <param name="owned">The service again when the resolver created it and disposes it, else <see langword="null"/>.</param>
    /// <param name="defaultPort">The port of a pod that has none (the channel's default: 80 or 443).</param>
    /// <param name="logger">Where reported results are logged.</param>
    internal HeadlessResolver(IHeadlessService service, IAsyncDisposable? owned, int defaultPort, ILogger logger)
    {
        _service = service;
        _owned = owned;
        _defaultPort = defaultPort;
        _logger = logger;
    }

    public override void Start(Action<ResolverResult> listener)
    {
        ArgumentNullException.ThrowIfNull(listener);
        lock (_gate)
        {
            if (_listener is not null)
            {
                throw new InvalidOperationException("The resolver has already been started.");
            }

            _listener = listener;
        }

        _service.Changed += OnChanged;
        _service.Start();
        Report(_service.Current);
    }

    /// <summary>The channel asks for fresh addresses (a subchannel failed): an early refresh, at most one per minimum interval.</summary>
    public override void Refresh() => _service.RequestRefresh();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            lock (_gate)
            {
                _disposed = true;
            }

            _service.Changed -= OnChanged;
            if (_owned is not null)
            {
                // The channel disposes its resolver synchronously; the service stops its timer at once and its
                // in-flight round ends on its own.
                _ = _owned.DisposeAsync().AsTask();
            }
        }

        base.Dispose(disposing);
    }

    /// <summary>The addresses of <paramref name="set"/>'s available pods, with hostname and ordinal attributes.</summary>
    internal static BalancerAddress[] AddressesOf(EndpointSet set, int defaultPort)
    {
        var addresses = new BalancerAddress[set.Available.Length];
        for (int i = 0; i < addresses.Length; i++)
        {
            PodEndpoint pod = set.Available[i];
            var address = new BalancerAddress(pod.Address.ToString(), pod.Port != 0 ? pod.Port : defaultPort);
            if (pod.Hostname is { } hostname)
            {
                address.Attributes.Set(HeadlessBalancerAttributes.Hostname, hostname);
            }

            if (pod.Ordinal is { } ordinal)
            {
                address.Attributes.Set(HeadlessBalancerAttributes.Ordinal, ordinal);
            }

            addresses[i] = address;
        }

        return addresses;
    }

    private void OnChanged(object? sender, EndpointSetChange change) => Report(change.Current);

    private void Report(EndpointSet set)
    {
        // Nothing before the first resolution: the channel's calls wait for it (or for their deadline).
        if (set.Version == 0)
        {
            return;
        }

        // One report at a time, never an older snapshot after a newer one (Start and a change can race).
        lock (_gate)
        {
            if (_disposed || _listener is null || set.Version <= _reported)
            {
                return;
            }

            _reported = set.Version;

            // No pod yet and an error: the channel fails its calls with our reason. Once it had pods, an empty list
            // (a failure would keep the old pods' connections in use: a service scaled to zero must get no call).
            _hadPods |= set.Available.Length > 0;
            ResolverResult result = !_hadPods && set.LastError is { } error
                ? ResolverResult.ForFailure(new Status(StatusCode.Unavailable, string.Create(CultureInfo.InvariantCulture, $"headless service {set.Service}: no pod resolved: {error.Message}")))
                : ResolverResult.ForResult(AddressesOf(set, _defaultPort));
            LogReported(_logger, set.Service.Value, set.Version, set.Available.Length, set.Endpoints.Length);
            _listener(result);
        }
    }

    [LoggerMessage(EventId = 1800, Level = LogLevel.Debug, Message = "gRPC resolver for {Service}: version {Version}, {Available} available pod(s) of {Count}")]
    private static partial void LogReported(ILogger logger, string service, long version, int available, int count);
}
