using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;
using Microsoft.Extensions.ServiceDiscovery;

namespace Headless.Discovery.ServiceDiscovery;

/// <summary>
/// Fills a service discovery endpoint list from one headless service's live set: one endpoint per available pod, and a
/// change token that fires when the available pods change (membership or health). Owns nothing: the registry owns the
/// service; disposing the provider only unsubscribes.
/// </summary>
internal sealed partial class HeadlessServiceEndpointProvider : IServiceEndpointProvider
{
    private readonly string _key;
    private readonly IHeadlessService _service;
    private readonly HeadlessServiceEndpointProviderOptions _options;
    private readonly ILogger _logger;
    private readonly EventHandler<EndpointSetChange> _onChanged;
    private PendingChange? _pending;
    private int _disposed;

    public HeadlessServiceEndpointProvider(string key, IHeadlessService service, HeadlessServiceEndpointProviderOptions options, ILogger logger)
    {
        _key = key;
        _service = service;
        _options = options;
        _logger = logger;
        _onChanged = (_, change) => OnSnapshot(change.Current);
        _service.Changed += _onChanged;
    }

    public async ValueTask PopulateAsync(IServiceEndpointBuilder endpoints, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoints);

        // Service discovery's convention: an earlier provider (e.g. a configuration override) wins.
        if (endpoints.Endpoints.Count != 0)
        {
            Log.Skipped(_logger, _key, endpoints.Endpoints.Count);
            return;
        }

        // Waits for the first resolution only; after that this completes synchronously with the current snapshot.
        await _service.GetEndpointsAsync(cancellationToken).ConfigureAwait(false);
        EndpointSet snapshot = _service.Current;

        foreach (PodEndpoint pod in snapshot.Available)
        {
            endpoints.Endpoints.Add(CreateEndpoint(pod));
        }

        // Arm the change token for this exact membership, then look once more: a snapshot published between reading
        // Current and arming would otherwise be missed (later ones reach OnSnapshot through Changed).
        var pending = new PendingChange(snapshot.Available);
        Volatile.Write(ref _pending, pending);
        EndpointSet latest = _service.Current;
        if (!ReferenceEquals(latest, snapshot))
        {
            OnSnapshot(latest);
        }

        endpoints.AddChangeToken(pending.Token);

        if (snapshot.Available.IsEmpty)
        {
            // Thrown errors would fault service discovery's background refresh, which nobody awaits; an empty answer
            // lets later providers (pass-through) run and the token brings the pods in when they come back.
            Log.NoPod(_logger, _key, snapshot.Service.Value, snapshot.Version, snapshot.Endpoints.Length);
        }
        else
        {
            Log.Populated(_logger, _key, snapshot.Available.Length, snapshot.Endpoints.Length, snapshot.Version, snapshot.IsPanic);
        }
    }

    private ServiceEndpoint CreateEndpoint(PodEndpoint pod)
    {
        var endpoint = ServiceEndpoint.Create(pod.EndPoint);
        endpoint.Features.Set<IServiceEndpointProvider>(this);
        endpoint.Features.Set(pod);
        if (_options.ApplyHostNameMetadata && pod.Hostname is { Length: > 0 } hostname)
        {
            endpoint.Features.Set<IHostNameFeature>(new HostNameFeature(hostname));
        }

        return endpoint;
    }

    /// <summary>Fires the armed token when <paramref name="set"/>'s available pods differ from the ones it was armed for.</summary>
    private void OnSnapshot(EndpointSet set)
    {
        PendingChange? pending = Volatile.Read(ref _pending);
        if (pending is null || pending.Available.SequenceEqual(set.Available))
        {
            return;
        }

        if (Interlocked.CompareExchange(ref _pending, null, pending) == pending)
        {
            pending.Fire();
        }
    }

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _service.Changed -= _onChanged;
        }

        return default;
    }

    public override string ToString() => "Headless.Discovery (" + _key + ")";

    /// <summary>One armed change token and the available pods it stands for.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "A CancellationTokenSource without a timer or wait handle holds nothing to dispose, and its token must outlive the provider.")]
    private sealed class PendingChange
    {
        private readonly CancellationTokenSource _source = new();

        public PendingChange(ImmutableArray<PodEndpoint> available)
        {
            Available = available;
            Token = new CancellationChangeToken(_source.Token);
        }

        public ImmutableArray<PodEndpoint> Available { get; }

        public IChangeToken Token { get; }

        public void Fire()
        {
            // HasChanged turns true at once; the callbacks (service discovery's refresh) run on the thread pool, not on
            // the service's change dispatcher, so they never delay the next change's delivery to other handlers.
            Task callbacks = _source.CancelAsync();
            if (!callbacks.IsCompleted)
            {
                _ = callbacks.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
        }
    }

    private sealed class HostNameFeature(string hostName) : IHostNameFeature
    {
        public string HostName { get; } = hostName;

        public override string ToString() => HostName;
    }

    private static partial class Log
    {
        [LoggerMessage(1702, LogLevel.Debug, "Service {Key}: an earlier service discovery provider already supplied {Count} endpoint(s); adding none.")]
        public static partial void Skipped(ILogger logger, string key, int count);

        [LoggerMessage(1703, LogLevel.Debug, "Service {Key}: {Available} of {Count} pod(s) handed to service discovery (snapshot version {Version}, panic {IsPanic}).")]
        public static partial void Populated(ILogger logger, string key, int available, int count, long version, bool isPanic);

        [LoggerMessage(1704, LogLevel.Warning, "Service {Key} ({Service}): no pod available for service discovery (snapshot version {Version}, {Count} pod(s) known); later providers, if any, answer until pods are back.")]
        public static partial void NoPod(ILogger logger, string key, string service, long version, int count);
    }
}
