using System.Collections.Immutable;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.ServiceDiscovery;

namespace Headless.Discovery.Yarp;

/// <summary>
/// Expands each configured destination whose address host is a key registered with <c>AddHeadlessService</c> into one
/// destination per pod, and hands YARP a change token that fires on the next snapshot of every service involved.
/// Other destinations pass through unchanged. Owns no service (the registry does); disposing it only unsubscribes.
/// </summary>
internal sealed partial class HeadlessDestinationResolver : IDestinationResolver, IDisposable
{
    private readonly IHeadlessServiceRegistry _registry;
    private readonly IServiceProvider _services;
    private readonly HeadlessDestinationOptions _options;
    private readonly ILogger _logger;
    private readonly Dictionary<string, ServiceWatch> _watches = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private bool _disposed;

    public HeadlessDestinationResolver(
        IHeadlessServiceRegistry registry,
        IServiceProvider services,
        IOptions<HeadlessDestinationOptions> options,
        ILoggerFactory? loggerFactory = null)
    {
        _registry = registry;
        _services = services;
        _options = options.Value;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Headless.Discovery.Yarp");
    }

    public async ValueTask<ResolvedDestinationCollection> ResolveDestinationsAsync(IReadOnlyDictionary<string, DestinationConfig> destinations, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destinations);
        List<(string Name, DestinationConfig Config, Uri Address, string Key)>? expanding = null;
        var passThrough = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach ((string name, DestinationConfig config) in destinations)
        {
            if (Uri.TryCreate(config.Address, UriKind.Absolute, out Uri? address) && FindKey(address.Host) is { } key)
            {
                (expanding ??= []).Add((name, config, address, key));
            }
            else
            {
                passThrough.Add(name);
            }
        }

        if (expanding is null)
        {
            return new ResolvedDestinationCollection(destinations, null);
        }

        // YARP compares destination names ignoring case.
        var resolved = new Dictionary<string, DestinationConfig>(StringComparer.OrdinalIgnoreCase);
        foreach ((string name, DestinationConfig config) in destinations)
        {
            if (passThrough.Contains(name))
            {
                resolved.Add(name, config);
            }
        }

        var tokens = new Dictionary<string, IChangeToken>(StringComparer.Ordinal);
        foreach ((string name, DestinationConfig config, Uri address, string key) in expanding)
        {
            ServiceWatch watch = Watch(key);

            // Waits for the first resolution only (YARP holds startup until then); afterwards it completes at once.
            await watch.Service.GetEndpointsAsync(cancellationToken).ConfigureAwait(false);

            // The token before the snapshot: a snapshot published after this read fires it, so none is missed.
            if (!tokens.ContainsKey(key))
            {
                tokens.Add(key, watch.Token);
            }

            EndpointSet set = watch.Service.Current;
            AddPods(resolved, name, config, address, key, set, prefixed: expanding.Count > 1, passThrough);
        }

        IChangeToken token = tokens.Count == 1 ? tokens.Values.First() : new CompositeChangeToken([.. tokens.Values]);
        return new ResolvedDestinationCollection(resolved, token);
    }

    /// <summary>Adds one destination per pod of <paramref name="set"/> for the configured destination <paramref name="name"/>.</summary>
    private void AddPods(
        Dictionary<string, DestinationConfig> resolved,
        string name,
        DestinationConfig config,
        Uri address,
        string key,
        EndpointSet set,
        bool prefixed,
        HashSet<string> passThrough)
    {
        ImmutableArray<PodEndpoint> pods = _options.ApplyDiscoveryHealth ? set.Available : set.Endpoints;
        string[] podNames = PodDestinations.Names(pods);
        Uri? health = Uri.TryCreate(config.Health, UriKind.Absolute, out Uri? h) && string.Equals(FindKey(h.Host), key, StringComparison.Ordinal) ? h : null;
        string host = PodDestinations.HostHeader(config.Host, address);
        for (int i = 0; i < pods.Length; i++)
        {
            // Two configured destinations of one cluster may name the same pods (or a pod's name may be a configured
            // name): then the configured name tells them apart, the same way on every resolution.
            string podName = prefixed || passThrough.Contains(podNames[i]) ? name + "/" + podNames[i] : podNames[i];
            resolved[podName] = config with
            {
                Address = PodDestinations.Rewrite(address, pods[i]),
                Health = health is null ? config.Health : PodDestinations.Rewrite(health, pods[i]),
                Host = host,
            };
        }

        if (pods.IsEmpty)
        {
            Log.NoPod(_logger, name, key, set.Service.Value, set.Version, set.Endpoints.Length);
        }
        else
        {
            Log.Expanded(_logger, name, key, pods.Length, set.Endpoints.Length, set.Version);
        }
    }

    /// <summary>The registered key a URI host names (the rule is <see cref="KeyForHost"/>).</summary>
    internal string? FindKey(string host) => KeyForHost.Find(_registry.Keys, host);

    private ServiceWatch Watch(string key)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_watches.TryGetValue(key, out ServiceWatch? watch))
            {
                // The keyed service, so a service registered in its place (a fake in tests) is the one followed.
                watch = new ServiceWatch(_services.GetRequiredKeyedService<IHeadlessService>(key));
                _watches.Add(key, watch);
                Log.Following(_logger, key, watch.Service.Name.Value);
            }

            return watch;
        }
    }

    public void Dispose()
    {
        ServiceWatch[] watches;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            watches = [.. _watches.Values];
        }

        foreach (ServiceWatch watch in watches)
        {
            watch.Dispose();
        }
    }

    /// <summary>
    /// Follows one service's <see cref="IHeadlessService.Changed"/>: each change fires the token handed out since the
    /// previous one and arms a new one.
    /// </summary>
    private sealed class ServiceWatch : IDisposable
    {
        private readonly EventHandler<EndpointSetChange> _onChanged;
        private Generation _generation = new();

        public ServiceWatch(IHeadlessService service)
        {
            Service = service;
            _onChanged = (_, _) => Interlocked.Exchange(ref _generation, new Generation()).Fire();
            service.Changed += _onChanged;
        }

        public IHeadlessService Service { get; }

        public IChangeToken Token => Volatile.Read(ref _generation).Token;

        public void Dispose() => Service.Changed -= _onChanged;
    }

    /// <summary>One armed change token.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "A CancellationTokenSource without a timer or wait handle holds nothing to dispose, and its token must outlive the resolver.")]
    private sealed class Generation
    {
        private readonly CancellationTokenSource _source = new();

        public Generation() => Token = new CancellationChangeToken(_source.Token);

        public IChangeToken Token { get; }

        public void Fire()
        {
            // HasChanged turns true at once; YARP's reload callbacks run on the thread pool, not on the service's
            // change dispatcher (nor on a fake's publishing thread), so they never delay the next delivery.
            Task callbacks = _source.CancelAsync();
            if (!callbacks.IsCompleted)
            {
                _ = callbacks.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
        }
    }

    /// <summary>Log events of the YARP destination resolver: event ids 1900-1909.</summary>
    private static partial class Log
    {
        [LoggerMessage(1900, LogLevel.Debug, "YARP destinations now follow headless service key '{Key}' ({Service}).")]
        public static partial void Following(ILogger logger, string key, string service);

        [LoggerMessage(1901, LogLevel.Debug, "YARP destination '{Destination}' (key '{Key}') expanded to {Pods} of {Count} pod(s) (snapshot version {Version}).")]
        public static partial void Expanded(ILogger logger, string destination, string key, int pods, int count, long version);

        [LoggerMessage(1902, LogLevel.Warning, "YARP destination '{Destination}' (key '{Key}', {Service}): no pod to send to (snapshot version {Version}, {Count} pod(s) known); the cluster has no destination from it until pods are back.")]
        public static partial void NoPod(ILogger logger, string destination, string key, string service, long version, int count);
    }
}
