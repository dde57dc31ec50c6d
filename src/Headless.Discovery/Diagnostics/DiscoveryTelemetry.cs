using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Headless.Discovery;

/// <summary>
/// The names under which Headless.Discovery publishes metrics and traces. OpenTelemetry picks them up with
/// <c>AddMeter(DiscoveryTelemetry.Name)</c> and <c>AddSource(DiscoveryTelemetry.Name)</c>.
/// </summary>
/// <remarks>
/// Instruments (durations in seconds; tags never carry a pod IP, so series stay bounded):
/// <list type="bullet">
/// <item><c>headless_discovery.resolution.duration</c> (histogram, s; tags <c>service</c>, <c>outcome</c>)</item>
/// <item><c>headless_discovery.resolution.errors</c> (counter; tags <c>service</c>, <c>outcome</c>)</item>
/// <item><c>headless_discovery.endpoints</c> (gauge; tags <c>service</c>, <c>state</c> = <c>total</c> | <c>stale</c> |
/// <c>healthy</c> | <c>unhealthy</c> | <c>ejected</c> | <c>available</c>; the health states are recorded when health
/// checking or passive health is on)</item>
/// <item><c>headless_discovery.endpoint.changes</c> (counter; tags <c>service</c>, <c>change</c> = <c>added</c> | <c>removed</c>)</item>
/// <item><c>headless_discovery.probe.duration</c> (histogram, s; tags <c>service</c>, <c>result</c> = <c>healthy</c> | <c>unhealthy</c>):
/// recorded once the probe's result is applied to the pod's health; a result that arrives after its pod left is not recorded</item>
/// <item><c>headless_discovery.ejections</c> (counter; tag <c>service</c>): pods ejected by passive health</item>
/// <item><c>headless_discovery.panic</c> (gauge, 0 or 1; tag <c>service</c>): 1 while the service is in panic mode</item>
/// <item><c>headless_discovery.health.tracked_pods</c> (gauge; tag <c>service</c>): pods holding per-pod health state —
/// every member while probes run; with passive health alone, the members reported failing since they joined</item>
/// </list>
/// </remarks>
public static class DiscoveryTelemetry
{
    /// <summary>The name of the <see cref="Meter"/> and the <see cref="ActivitySource"/>: <c>Headless.Discovery</c>.</summary>
    public const string Name = "Headless.Discovery";

    internal static readonly string Version = typeof(DiscoveryTelemetry).Assembly.GetName().Version?.ToString() ?? "0.0.0";

    internal static readonly ActivitySource ActivitySource = new(Name, Version);

    internal static readonly Meter Meter = new(Name, Version);

    /// <summary>Histogram buckets for network round trips, 0.5 ms to 10 s.</summary>
    private static readonly InstrumentAdvice<double> DurationBuckets = new()
    {
        HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    };

    internal static readonly Histogram<double> ResolutionDuration = Meter.CreateHistogram<double>(
        "headless_discovery.resolution.duration",
        unit: "s",
        description: "Duration of one resolution round (all attempts), in seconds.",
        tags: null,
        advice: DurationBuckets);

    internal static readonly Counter<long> ResolutionErrors = Meter.CreateCounter<long>(
        "headless_discovery.resolution.errors",
        unit: "{error}",
        description: "Resolution rounds that failed (timeout, unreachable server, SERVFAIL, malformed answer).");

    internal static readonly Gauge<long> Endpoints = Meter.CreateGauge<long>(
        "headless_discovery.endpoints",
        unit: "{endpoint}",
        description: "Endpoints in the latest published snapshot, by state.");

    internal static readonly Counter<long> EndpointChanges = Meter.CreateCounter<long>(
        "headless_discovery.endpoint.changes",
        unit: "{endpoint}",
        description: "Endpoints added to or removed from a service's published snapshot.");

    internal static readonly Histogram<double> ProbeDuration = Meter.CreateHistogram<double>(
        "headless_discovery.probe.duration",
        unit: "s",
        description: "Duration of one active health probe of one pod, in seconds.",
        tags: null,
        advice: DurationBuckets);

    internal static readonly Counter<long> Ejections = Meter.CreateCounter<long>(
        "headless_discovery.ejections",
        unit: "{ejection}",
        description: "Pods ejected by passive health (outlier detection).");

    internal static readonly Gauge<int> Panic = Meter.CreateGauge<int>(
        "headless_discovery.panic",
        unit: "{flag}",
        description: "1 while fewer than the panic threshold of a service's pods are available (selection uses all pods), else 0.");

    internal static readonly Gauge<long> TrackedPods = Meter.CreateGauge<long>(
        "headless_discovery.health.tracked_pods",
        unit: "{pod}",
        description: "Pods for which a service holds health state: every member while probing, else the members reported failing since they joined.");

    internal static readonly Counter<long> HealthEvents = Meter.CreateCounter<long>(
        "headless_discovery.health.events",
        unit: "{event}",
        description: "Health transitions of pods, by kind: healthy and unhealthy (active probes), ejected and returned (passive health).");

    internal static readonly Counter<long> LeaseRejections = Meter.CreateCounter<long>(
        "headless_discovery.lease.rejections",
        unit: "{pick}",
        description: "Picks and leases refused because every available pod held its limit of outstanding leases (MaxLeasesPerPod).");

    internal const string ServiceTag = "service";
    internal const string KindTag = "kind";
    internal const string ResultTag = "result";
    internal const string OutcomeTag = "outcome";
    internal const string StateTag = "state";
    internal const string ChangeTag = "change";
}
