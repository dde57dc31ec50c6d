using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Headless.Discovery;

/// <summary>
/// Starts every registered service with the host and, for those with <see cref="HeadlessServiceRegistrationOptions.MinEndpoints"/>,
/// waits (bounded by <see cref="HeadlessServiceRegistrationOptions.StartupTimeout"/>) until that many endpoints are resolved.
/// Stopping does nothing: the services stay usable while other hosted services stop, and go with the container.
/// </summary>
internal sealed partial class HeadlessDiscoveryWarmup(HeadlessServiceRegistry registry, TimeProvider timeProvider, ILoggerFactory? loggerFactory = null) : IHostedService
{
    private readonly ILogger _logger = (ILogger?)loggerFactory?.CreateLogger<HeadlessDiscoveryWarmup>() ?? NullLogger.Instance;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var waits = new List<Task>();
        foreach (string key in registry.Keys)
        {
            IHeadlessService service = registry.GetService(key);
            service.Start();
            HeadlessServiceRegistrationOptions options = registry.GetRegistrationOptions(key);
            Log.Started(_logger, key, service.Name.Value, options.MinEndpoints);
            if (options.MinEndpoints > 0)
            {
                waits.Add(WaitAsync(key, service, options, cancellationToken));
            }
        }

        await Task.WhenAll(waits).ConfigureAwait(false);
    }

    private async Task WaitAsync(string key, IHeadlessService service, HeadlessServiceRegistrationOptions options, CancellationToken cancellationToken)
    {
        long started = timeProvider.GetTimestamp();
        using var timeout = new CancellationTokenSource(options.StartupTimeout, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            EndpointSet set = await service.WaitForEndpointsAsync(options.MinEndpoints, linked.Token).ConfigureAwait(false);
            Log.Ready(_logger, key, set.Count, timeProvider.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            EndpointSet current = service.Current;
            string message =
                $"{HeadlessServiceConfiguration.SectionPath(key)}: {current.Count} of the {options.MinEndpoints} endpoint(s) required by MinEndpoints " +
                $"resolved for {service.Name} within StartupTimeout = {options.StartupTimeout}" +
                (current.LastError is null ? "." : $"; last error: {current.LastError.Message}");
            if (options.FailOnStartupTimeout)
            {
                throw new TimeoutException(message + " (set FailOnStartupTimeout = false to start anyway with a warning).", current.LastError);
            }

            Log.NotReady(_logger, message);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Log events of the hosted warm-up: event ids 1410-1419.</summary>
    private static partial class Log
    {
        [LoggerMessage(1410, LogLevel.Information, "Headless service '{Key}' ({Service}) started with the host; waiting for {MinEndpoints} endpoint(s) (0 = no wait).")]
        public static partial void Started(ILogger logger, string key, string service, int minEndpoints);

        [LoggerMessage(1411, LogLevel.Information, "Headless service '{Key}' ready with {Count} endpoint(s) after {ElapsedMs:0} ms.")]
        public static partial void Ready(ILogger logger, string key, int count, double elapsedMs);

        [LoggerMessage(1412, LogLevel.Warning, "{Message} Starting anyway (FailOnStartupTimeout = false); the service keeps resolving.")]
        public static partial void NotReady(ILogger logger, string message);
    }
}
