using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Headless.Discovery.HealthChecks;

/// <summary>
/// "At least N usable pods": Healthy when at least <see cref="HeadlessServiceHealthCheckOptions.MinHealthy"/> pods are
/// usable, the set is fresh and no pod is unhealthy or ejected; Degraded when enough pods are usable but some are not,
/// the set is stale, or selection is in panic mode; the registration's failure status otherwise (too few usable pods,
/// nothing resolved yet, or stale beyond <see cref="HeadlessServiceHealthCheckOptions.MaxStaleAge"/>).
/// </summary>
internal sealed partial class HeadlessServiceHealthCheck(
    string key,
    IHeadlessServiceRegistry registry,
    HeadlessServiceHealthCheckOptions options,
    TimeProvider timeProvider,
    HeadlessServiceHealthCheckState state,
    ILogger? logger = null) : IHealthCheck
{
    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);

        IHeadlessService service;
        try
        {
            service = registry.GetService(key);

            // Without the hosted warm-up (a plain container) the first check starts the watcher.
            service.Start();
        }
        catch (Exception ex) when (ex is KeyNotFoundException or InvalidOperationException or ArgumentException or ObjectDisposedException)
        {
            return Task.FromResult(new HealthCheckResult(context.Registration.FailureStatus, $"Headless service '{key}' is not available: {ex.Message}", ex));
        }

        EndpointSet set = service.Current;
        DateTimeOffset now = timeProvider.GetUtcNow();

        PodCounts counts = PodCounts.Of(set, options.CountUnknownPods);
        int usable = counts.Usable;

        TimeSpan? staleFor = set.StaleSince is { } since ? now - since : null;
        var data = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["key"] = key,
            ["service"] = set.Service.Value,
            ["version"] = set.Version,
            ["endpoints"] = set.Endpoints.Length,
            ["usable"] = usable,
            ["healthy"] = counts.ProbedHealthy,
            ["unknown"] = counts.Unknown,
            ["unavailable"] = counts.Unavailable,
            ["unhealthy"] = set.UnhealthyCount,
            ["ejected"] = set.EjectedCount,
            ["minHealthy"] = options.MinHealthy,
            ["panic"] = set.IsPanic,
            ["stale"] = set.StaleSince is not null,
            ["staleForSeconds"] = staleFor is { } s ? Math.Round(s.TotalSeconds, 3) : 0d,
            ["ageSeconds"] = Math.Round((now - set.ResolvedAt).TotalSeconds, 3),
        };
        if (set.LastError is not null)
        {
            data["lastError"] = set.LastError.Message;
        }

        HealthStatus failure = context.Registration.FailureStatus;
        (HealthStatus status, string description) = Evaluate(set, counts, staleFor, failure);
        HealthStatus? previous = state.Exchange(context.Registration.Name, status);
        if (previous is not null && previous != status)
        {
            Log.StatusChanged(_logger, key, previous.Value, status, description);
        }

        return Task.FromResult(new HealthCheckResult(status, description, set.LastError, data));
    }

    private (HealthStatus Status, string Description) Evaluate(EndpointSet set, PodCounts pods, TimeSpan? staleFor, HealthStatus failure)
    {
        int usable = pods.Usable;
        string counts = string.Create(
            CultureInfo.InvariantCulture,
            $"{set.Service}: {usable} of {set.Endpoints.Length} pod(s) usable (probed healthy {pods.ProbedHealthy}, not probed {pods.Unknown}{(pods.CountUnknown ? string.Empty : ": not counted")}, unavailable {pods.Unavailable}: unhealthy {set.UnhealthyCount}, ejected {set.EjectedCount}); at least {options.MinHealthy} required");
        if (set.Version == 0 && options.MinHealthy > 0)
        {
            return (failure, $"{set.Service}: not resolved yet.");
        }

        if (usable < options.MinHealthy)
        {
            return (failure, counts + (set.StaleSince is not null ? " (stale)." : "."));
        }

        if (staleFor is { } age && options.MaxStaleAge != Timeout.InfiniteTimeSpan && age > options.MaxStaleAge)
        {
            return (failure, string.Create(CultureInfo.InvariantCulture, $"{counts}; stale for {age.TotalSeconds:0.#} s, more than MaxStaleAge {options.MaxStaleAge.TotalSeconds:0.#} s."));
        }

        if (set.StaleSince is not null)
        {
            return (HealthStatus.Degraded, string.Create(CultureInfo.InvariantCulture, $"{counts}; stale for {(staleFor ?? TimeSpan.Zero).TotalSeconds:0.#} s (DNS failing, last known pods kept)."));
        }

        if (set.IsPanic || usable < set.Endpoints.Length)
        {
            return (HealthStatus.Degraded, counts + (set.IsPanic ? "; panic mode (selecting among all pods)." : "."));
        }

        return (HealthStatus.Healthy, counts + ".");
    }

    /// <summary>Log events of the health check: event ids 1600-1609.</summary>
    private static partial class Log
    {
        [LoggerMessage(1600, LogLevel.Information, "Headless service check '{Key}': {Previous} -> {Current}: {Description}")]
        public static partial void StatusChanged(ILogger logger, string key, HealthStatus previous, HealthStatus current, string description);
    }
}

/// <summary>A snapshot's pods by what is known of them; <see cref="Usable"/> counts unknown ones only when asked to.</summary>
internal readonly record struct PodCounts(int ProbedHealthy, int Unknown, int Unavailable, bool CountUnknown)
{
    public int Usable => ProbedHealthy + (CountUnknown ? Unknown : 0);

    /// <summary>Probed healthy, unknown (not probed: no probe, or not yet) and unavailable (unhealthy or ejected) pods of <paramref name="set"/>.</summary>
    public static PodCounts Of(EndpointSet set, bool countUnknown)
    {
        int probedHealthy = 0, unknown = 0;
        foreach (EndpointStatus status in set.Statuses)
        {
            probedHealthy += status.IsAvailable && status.Health == EndpointHealth.Healthy ? 1 : 0;
            unknown += status.IsAvailable && status.Health == EndpointHealth.Unknown ? 1 : 0;
        }

        return new PodCounts(probedHealthy, unknown, set.Endpoints.Length - probedHealthy - unknown, countUnknown);
    }
}

/// <summary>The last status of each check registration, so transitions are logged once.</summary>
internal sealed class HeadlessServiceHealthCheckState
{
    private readonly ConcurrentDictionary<string, HealthStatus> _last = new(StringComparer.Ordinal);

    public HealthStatus? Exchange(string registration, HealthStatus status)
    {
        HealthStatus? previous = null;
        _last.AddOrUpdate(
            registration,
            status,
            (_, old) =>
            {
                previous = old;
                return status;
            });
        return previous;
    }
}
