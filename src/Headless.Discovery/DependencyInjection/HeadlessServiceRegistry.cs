using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Headless.Discovery;

/// <summary>The container's owner of the registered services: creates each on first use, disposes them all with the container.</summary>
internal sealed partial class HeadlessServiceRegistry : IHeadlessServiceRegistry, IAsyncDisposable, IDisposable
{
    private readonly IServiceProvider _services;
    private readonly HeadlessServiceKeys _keys;
    private readonly IOptionsMonitor<HeadlessServiceOptions> _options;
    private readonly IOptionsMonitor<HeadlessServiceRegistrationOptions> _registrationOptions;
    private readonly TimeProvider _timeProvider;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly Dictionary<string, IHeadlessService> _created = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IEndpointSelector> _selectors = new(StringComparer.Ordinal);
    private readonly object _lock = new();
    private bool _disposed;

    public HeadlessServiceRegistry(
        IServiceProvider services,
        HeadlessServiceKeys keys,
        IOptionsMonitor<HeadlessServiceOptions> options,
        IOptionsMonitor<HeadlessServiceRegistrationOptions> registrationOptions,
        TimeProvider timeProvider)
    {
        _services = services;
        _keys = keys;
        _options = options;
        _registrationOptions = registrationOptions;
        _timeProvider = timeProvider;
        _loggerFactory = services.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<HeadlessServiceRegistry>();
    }

    public IReadOnlyList<string> Keys => _keys.Snapshot();

    public IHeadlessService GetService(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (TryGetService(key, out IHeadlessService? service))
        {
            return service;
        }

        throw UnknownKey(key);
    }

    public bool TryGetService(string key, [NotNullWhen(true)] out IHeadlessService? service)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!_keys.Contains(key))
        {
            service = null;
            return false;
        }

        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_created.TryGetValue(key, out service))
            {
                service = Create(key);
                _created.Add(key, service);
            }

            return true;
        }
    }

    public IEndpointSelector GetSelector(string key)
    {
        IHeadlessService service = GetService(key);
        lock (_lock)
        {
            if (!_selectors.TryGetValue(key, out IEndpointSelector? selector))
            {
                HeadlessServiceRegistrationOptions registration = _registrationOptions.Get(key);
                string? error = SelectorSpec.TryParse(registration.Selector, out SelectorSpec spec);
                if (error is not null)
                {
                    throw new InvalidOperationException($"{HeadlessServiceConfiguration.SectionPath(key)}:Selector: {error}");
                }

                selector = spec.Kind switch
                {
                    SelectorKind.Random => EndpointSelectors.Random(service, registration.SlowStart),
                    SelectorKind.LeastRequest => EndpointSelectors.LeastRequest(service, spec.Argument, registration.MaxLeasesPerPod, registration.SlowStart),
                    SelectorKind.PickFirst => EndpointSelectors.PickFirst(service),
                    SelectorKind.Ordinal when spec.StatefulSet is { } set => EndpointSelectors.Ordinal(service, set, spec.Argument),
                    SelectorKind.Ordinal => EndpointSelectors.Ordinal(service, spec.Argument),
                    SelectorKind.Subset => EndpointSelectors.Subset(service, spec.Argument, Environment.MachineName),
                    _ => EndpointSelectors.RoundRobin(service, registration.SlowStart),
                };
                _selectors.Add(key, selector);
            }

            return selector;
        }
    }

    /// <summary>The validated registration options (selector, startup wait) of <paramref name="key"/>.</summary>
    public HeadlessServiceRegistrationOptions GetRegistrationOptions(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return _keys.Contains(key) ? _registrationOptions.Get(key) : throw UnknownKey(key);
    }

    private HeadlessService Create(string key)
    {
        // Get validates (the same validator ValidateOnStart runs), so a bad option throws here naming the key.
        HeadlessServiceOptions options = _options.Get(key);
        HeadlessServiceRegistrationOptions registration = _registrationOptions.Get(key);
        IEndpointResolver? resolver = _services.GetKeyedService<IEndpointResolver>(key);
        KubernetesDnsEnvironment? environment = _services.GetService<KubernetesDnsEnvironment>();
        HeadlessService service = resolver is null
            ? new HeadlessService(options, _timeProvider, _loggerFactory, environment)
            : new HeadlessService(ServiceName.Qualify(options.Name!, environment), resolver, options, _timeProvider, _loggerFactory);
        Log.ServiceCreated(_logger, key, service.Name.Value, resolver is null ? "DNS" : resolver.GetType().Name);
        Log.EffectiveOptions(_logger, key, EffectiveOptions.Describe(service.Name, options, registration));
        return service;
    }

    private KeyNotFoundException UnknownKey(string key)
    {
        IReadOnlyList<string> keys = _keys.Snapshot();
        return new KeyNotFoundException(keys.Count == 0
            ? $"No headless service is registered under '{key}': none is registered; call services.AddHeadlessService(\"{key}\")."
            : $"No headless service is registered under '{key}'; registered: {string.Join(", ", keys)}.");
    }

    public async ValueTask DisposeAsync()
    {
        IHeadlessService[] services;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            services = [.. _created.Values];
        }

        foreach (IHeadlessService service in services)
        {
            try
            {
                await service.DisposeAsync().ConfigureAwait(false);
            }
#pragma warning disable CA1031 // One failing disposal must not leak the others.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.DisposeFailed(_logger, service.Name.Value, ex);
            }
        }

        if (services.Length > 0)
        {
            Log.Disposed(_logger, services.Length);
        }
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Log events of the DI registry: event ids 1400-1409.</summary>
    private static partial class Log
    {
        [LoggerMessage(1400, LogLevel.Debug, "Headless service '{Key}' created for {Service} (endpoints from {Source}).")]
        public static partial void ServiceCreated(ILogger logger, string key, string service, string source);

        [LoggerMessage(1402, LogLevel.Information, "Headless service '{Key}': {Options}.")]
        public static partial void EffectiveOptions(ILogger logger, string key, string options);

        [LoggerMessage(1401, LogLevel.Debug, "Disposed {Count} headless service(s) with the container.")]
        public static partial void Disposed(ILogger logger, int count);

        [LoggerMessage(1402, LogLevel.Warning, "Disposing headless service {Service} failed.")]
        public static partial void DisposeFailed(ILogger logger, string service, Exception error);
    }
}
