using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.ServiceDiscovery;

namespace Headless.Discovery.ServiceDiscovery;

/// <summary>
/// Claims the service discovery queries whose service name is a key registered with <c>AddHeadlessService</c>
/// (<c>http://backend</c>, <c>https+http://backend</c> → key <c>backend</c>) and no endpoint name; every other query is
/// left to the other providers.
/// </summary>
internal sealed partial class HeadlessServiceEndpointProviderFactory : IServiceEndpointProviderFactory
{
    private readonly IHeadlessServiceRegistry _registry;
    private readonly HeadlessServiceEndpointProviderOptions _options;
    private readonly ILogger _logger;

    public HeadlessServiceEndpointProviderFactory(
        IHeadlessServiceRegistry registry,
        IOptions<HeadlessServiceEndpointProviderOptions> options,
        ILoggerFactory? loggerFactory = null)
    {
        _registry = registry;
        _options = options.Value;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Headless.Discovery.ServiceDiscovery");
    }

    public bool TryCreateProvider(ServiceEndpointQuery query, [NotNullWhen(true)] out IServiceEndpointProvider? provider)
    {
        ArgumentNullException.ThrowIfNull(query);
        provider = null;
        string? key = FindKey(query.ServiceName);
        if (key is null)
        {
            return false;
        }

        if (!string.IsNullOrEmpty(query.EndpointName))
        {
            // A registration is one DNS name and one port: a named endpoint (http://_grpc.backend) is something else,
            // left to the other providers (e.g. configuration's Services:backend:grpc).
            Log.EndpointNameNotClaimed(_logger, query.ToString() ?? query.ServiceName, key, query.EndpointName);
            return false;
        }

        IHeadlessService service = _registry.GetService(key);
        Log.Claimed(_logger, query.ToString() ?? query.ServiceName, key, service.Name.Value);
        provider = new HeadlessServiceEndpointProvider(key, service, _options, _logger);
        return true;
    }

    /// <summary>The registered key a URI host names (the rule is <see cref="KeyForHost"/>).</summary>
    internal string? FindKey(string serviceName) => KeyForHost.Find(_registry.Keys, serviceName);

    private static partial class Log
    {
        [LoggerMessage(1700, LogLevel.Debug, "Service discovery query '{Query}' is served by headless service key '{Key}' ({Service}).")]
        public static partial void Claimed(ILogger logger, string query, string key, string service);

        [LoggerMessage(1701, LogLevel.Debug, "Service discovery query '{Query}' names endpoint '{EndpointName}' of headless service key '{Key}'; named endpoints are left to other providers.")]
        public static partial void EndpointNameNotClaimed(ILogger logger, string query, string key, string endpointName);
    }
}
