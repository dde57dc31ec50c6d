using System.Collections.Concurrent;
using Headless.Discovery.Tests.Refresh;
using Microsoft.Extensions.Time.Testing;

namespace Headless.Discovery.Tests.Health;

/// <summary>A probe double: per-pod verdicts switchable at runtime, per-pod call counts.</summary>
internal sealed class ScriptedProbe : IEndpointProbe
{
    private readonly ConcurrentDictionary<PodEndpoint, bool> _healthy = new();
    private readonly ConcurrentDictionary<PodEndpoint, int> _calls = new();

    public void Set(PodEndpoint endpoint, bool healthy) => _healthy[endpoint] = healthy;

    public int Calls(PodEndpoint endpoint) => _calls.TryGetValue(endpoint, out int n) ? n : 0;

    public ValueTask<ProbeResult> ProbeAsync(PodEndpoint endpoint, CancellationToken cancellationToken = default)
    {
        _calls.AddOrUpdate(endpoint, 1, static (_, n) => n + 1);
        return ValueTask.FromResult(_healthy.GetValueOrDefault(endpoint, true)
            ? ProbeResult.Healthy()
            : ProbeResult.Unhealthy("scripted failure"));
    }
}

/// <summary>
/// HeadlessService over a scripted resolver and fake time, with health configured per test. Each service gets a name of
/// its own, so its public metrics (<see cref="Metrics"/>) count only its probes.
/// </summary>
public abstract class HealthTestBase : IAsyncLifetime
{
    protected static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    private readonly List<HeadlessService> _services = [];
    private readonly Dictionary<HeadlessService, HealthMetrics> _metrics = [];
    private readonly HashSet<HeadlessService> _probed = [];

    internal FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    internal ScriptedResolver Resolver { get; } = new(ScriptedAnswers.Ok(3600, 1, 2, 3));

    internal HeadlessService Create(IEndpointProbe? probe, Action<HeadlessServiceOptions>? configure = null)
    {
        var options = new HeadlessServiceOptions { MinRefreshInterval = TimeSpan.FromSeconds(1), MaxRefreshInterval = TimeSpan.FromHours(1) };
        options.ActiveHealth.CustomProbe = probe;
        options.ActiveHealth.Interval = Interval;
        options.ActiveHealth.Timeout = TimeSpan.FromSeconds(2);
        options.ActiveHealth.HealthyThreshold = 2;
        options.ActiveHealth.UnhealthyThreshold = 3;
        configure?.Invoke(options);
        // Mid-range samples: jitter adds nothing, so probes run on the exact interval.
        ServiceName name = HealthMetrics.UniqueName();
        // Listening before the service exists: no measurement of it is missed.
        var metrics = new HealthMetrics(name);
        var service = new HeadlessService(name, Resolver, options, Time, random: new ConstantRandom(0.5));
        _services.Add(service);
        _metrics[service] = metrics;
        if (options.ActiveHealth.Enabled)
        {
            _probed.Add(service);
        }

        return service;
    }

    /// <summary>The public metrics of <paramref name="service"/>: applied probes and pods holding health state.</summary>
    internal HealthMetrics Metrics(HeadlessService service) => _metrics[service];

    /// <summary>Waits until <paramref name="count"/> probes of <paramref name="service"/> have completed and been applied.</summary>
    internal Task WaitForProbesAsync(HeadlessService service, long count) => Metrics(service).WaitForProbesAsync(count).WaitAsync(Generous);

    /// <summary>Starts the service and waits until every pod of the first snapshot has been probed once (when probes are configured).</summary>
    internal async Task<EndpointSet> StartAndProbeAsync(HeadlessService service)
    {
        EndpointSet first = await service.GetEndpointsAsync().AsTask().WaitAsync(Generous);
        if (_probed.Contains(service))
        {
            await WaitForProbesAsync(service, first.Count);
        }

        return service.Current;
    }

    /// <summary>Advances fake time by one interval and waits for one more probe of each of <paramref name="pods"/> pods.</summary>
    internal async Task ProbeRoundAsync(HeadlessService service, int pods, TimeSpan? by = null)
    {
        long target = Metrics(service).Probes + pods;
        Time.Advance(by ?? Interval);
        await WaitForProbesAsync(service, target);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (HeadlessService service in _services)
        {
            await service.DisposeAsync();
            _metrics[service].Dispose();
        }
    }
}
