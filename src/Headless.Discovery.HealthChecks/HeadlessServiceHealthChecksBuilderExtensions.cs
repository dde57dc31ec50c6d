using Headless.Discovery;
using Headless.Discovery.HealthChecks;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds headless-service health checks to an <see cref="IHealthChecksBuilder"/>.</summary>
public static class HeadlessServiceHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds a check of the headless Service registered under <paramref name="key"/> (with <c>AddHeadlessService</c>):
    /// Healthy when at least <paramref name="minHealthy"/> pods are usable and all is well, Degraded when enough are
    /// usable but some pods are unhealthy or ejected, the set is stale or in panic mode, and
    /// <paramref name="failureStatus"/> when fewer are usable or nothing is resolved yet. The result data holds the
    /// counts (<c>endpoints</c>, <c>usable</c>, <c>healthy</c>, <c>unhealthy</c>, <c>ejected</c>), <c>stale</c>,
    /// <c>staleForSeconds</c>, <c>ageSeconds</c>, <c>version</c> and <c>lastError</c>. Reads one snapshot: cheap, no I/O.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="key">The service key given to <c>AddHeadlessService</c>.</param>
    /// <param name="minHealthy">The fewest usable pods, 0 or more. Default: 1.</param>
    /// <param name="name">The check's name. Default: <c>headless-service:&lt;key&gt;</c>.</param>
    /// <param name="failureStatus">The status reported on failure. Default: <see cref="HealthStatus.Unhealthy"/>.</param>
    /// <param name="tags">Tags to filter checks by (e.g. <c>ready</c>). Default: none.</param>
    /// <param name="configure">Further thresholds (e.g. <see cref="HeadlessServiceHealthCheckOptions.MaxStaleAge"/>).</param>
    /// <returns><paramref name="builder"/>.</returns>
    public static IHealthChecksBuilder AddHeadlessServiceCheck(
        this IHealthChecksBuilder builder,
        string key,
        int minHealthy = 1,
        string? name = null,
        HealthStatus? failureStatus = null,
        IEnumerable<string>? tags = null,
        Action<HeadlessServiceHealthCheckOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        var options = new HeadlessServiceHealthCheckOptions { MinHealthy = minHealthy };
        configure?.Invoke(options);
        options.Validate();

        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<HeadlessServiceHealthCheckState>();
        return builder.Add(new HealthCheckRegistration(
            name ?? "headless-service:" + key,
            sp => new HeadlessServiceHealthCheck(
                key,
                sp.GetRequiredService<IHeadlessServiceRegistry>(),
                options,
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<HeadlessServiceHealthCheckState>(),
                sp.GetService<ILoggerFactory>()?.CreateLogger("Headless.Discovery.HealthChecks")),
            failureStatus,
            tags));
    }
}
