using Headless.Discovery.Testing;
using Headless.Discovery.TestSupport;
using Headless.Discovery.Tests.Refresh;

namespace Headless.Discovery.Tests.Health;

/// <summary>
/// HeadlessService with active health checks against real loopback pods on the system clock (short intervals). Waits on
/// published snapshots with generous timeouts; asserts no timings.
/// </summary>
public sealed class HealthWithRealPodsTests : IAsyncLifetime
{
    private static readonly ServiceName Svc = ServiceName.Parse("web.default.svc.cluster.local");
    private readonly List<LoopbackPod> _pods = [];
    private readonly ScriptedResolver _resolver = new(ScriptedAnswers.Default);
    private HeadlessService? _service;

    public async Task InitializeAsync()
    {
        for (int i = 0; i < 3; i++)
        {
            _pods.Add(await LoopbackPod.StartHttpAsync(LoopbackAddressPool.Next(), name: $"web-{i}"));
        }

        _resolver.Fallback = ResolutionResult.Success(_pods.Select(Of), TimeSpan.FromHours(1));
    }

    public async Task DisposeAsync()
    {
        if (_service is not null)
        {
            await _service.DisposeAsync();
        }

        foreach (LoopbackPod pod in _pods)
        {
            await pod.DisposeAsync();
        }
    }

    private static PodEndpoint Of(LoopbackPod pod) => new(pod.Address, pod.Port);

    /// <summary>
    /// Starts probing. The timeout is generous by default: on a loaded 2-core machine a loopback probe can take a second,
    /// and a timeout would replace the error a test is looking for. Only the hang test wants it short.
    /// </summary>
    private HeadlessService Start(string probe, int healthyThreshold = 2, int unhealthyThreshold = 3, double timeoutSeconds = 5)
    {
        var options = new HeadlessServiceOptions { MaxRefreshInterval = TimeSpan.FromHours(1) };
        options.ActiveHealth.Probe = probe;
        options.ActiveHealth.Interval = TimeSpan.FromMilliseconds(100);
        options.ActiveHealth.Timeout = TimeSpan.FromSeconds(timeoutSeconds);
        options.ActiveHealth.HealthyThreshold = healthyThreshold;
        options.ActiveHealth.UnhealthyThreshold = unhealthyThreshold;
        _service = new HeadlessService(Svc, _resolver, options);
        _service.Start();
        return _service;
    }

    private static Task<EndpointSet> WaitForHealthAsync(HeadlessService service, LoopbackPod pod, EndpointHealth health) =>
        service.WaitAsync(s => s.GetStatus(Of(pod))?.Health == health, CancellationToken.None).AsTask().WaitAsync(Generous);

    private static Task<EndpointSet> WaitAllHealthyAsync(HeadlessService service) =>
        service.WaitAsync(s => s.Count > 0 && s.HealthyCount == s.Count, CancellationToken.None).AsTask().WaitAsync(Generous);

    /// <summary>
    /// A service started on a thread whose synchronization context never runs posted work (a UI thread blocked on
    /// <c>.Result</c>, a test framework's busy worker) still resolves and probes: nothing is posted to that context.
    /// </summary>
    [Fact]
    public async Task A_service_started_under_a_busy_synchronization_context_still_resolves_and_probes()
    {
        var held = new HeldSynchronizationContext();
        HeadlessService service = held.Run(() => Start("http:/healthz"));
        try
        {
            await WaitAllHealthyAsync(service);
            Assert.Equal(0, held.Posted);
        }
        finally
        {
            held.Release();
        }
    }

    [Theory]
    [InlineData("http:/healthz")]
    [InlineData("tcp")]
    public async Task A_stopped_pod_turns_unhealthy_and_healthy_again_after_restart(string probe)
    {
        HeadlessService service = Start(probe);
        await WaitAllHealthyAsync(service);
        LoopbackPod victim = _pods[1];

        await victim.StopAsync();
        EndpointSet down = await WaitForHealthAsync(service, victim, EndpointHealth.Unhealthy);
        EndpointStatus status = down.GetStatus(Of(victim))!;
        Assert.Contains("ConnectionRefused", status.LastError, StringComparison.Ordinal);
        Assert.True(status.ConsecutiveFailures >= 3);
        Assert.DoesNotContain(Of(victim), down.Available);
        Assert.Equal(2, down.Available.Length);

        await victim.StartAsync();
        EndpointSet up = await WaitForHealthAsync(service, victim, EndpointHealth.Healthy);
        Assert.Equal(3, up.Available.Length);
        Assert.True(up.Version > down.Version);
    }

    [Fact]
    public async Task A_pod_that_accepts_and_never_answers_is_unhealthy_by_timeout()
    {
        _pods[0].Behavior = PodBehavior.Hang;
        HeadlessService service = Start("http:/", unhealthyThreshold: 1, timeoutSeconds: 1);

        EndpointSet set = await WaitForHealthAsync(service, _pods[0], EndpointHealth.Unhealthy);

        Assert.Equal("timed out after 1000 ms", set.GetStatus(Of(_pods[0]))!.LastError);
    }

    [Fact]
    public async Task A_pod_answering_500_is_unhealthy_and_recovers_when_it_answers_200()
    {
        _pods[2].Behavior = PodBehavior.Status(500);
        HeadlessService service = Start("http:/");

        EndpointSet set = await WaitForHealthAsync(service, _pods[2], EndpointHealth.Unhealthy);
        Assert.Equal("HTTP 500 is outside 200-399", set.GetStatus(Of(_pods[2]))!.LastError);

        _pods[2].Behavior = PodBehavior.Healthy;
        await WaitForHealthAsync(service, _pods[2], EndpointHealth.Healthy);
    }

    [Fact]
    public async Task A_flapping_pod_stays_healthy_under_hysteresis()
    {
        LoopbackPod flapper = _pods[0];
        HeadlessService service = Start("http:/", healthyThreshold: 2, unhealthyThreshold: 3);
        EndpointSet settled = await WaitAllHealthyAsync(service);
        var changes = new List<EndpointSetChange>();
        service.Changed += (_, c) =>
        {
            lock (changes)
            {
                changes.Add(c);
            }
        };

        // Alternate failure and success probe by probe: never three failures in a row.
        long requests = flapper.RequestCount;
        for (int i = 0; i < 12; i++)
        {
            flapper.Behavior = i % 2 == 0 ? PodBehavior.Status(503) : PodBehavior.Healthy;
            requests++;
            await flapper.WaitForRequestsAsync(requests).WaitAsync(Generous);
        }

        flapper.Behavior = PodBehavior.Healthy;
        Assert.Equal(EndpointHealth.Healthy, service.Current.GetStatus(Of(flapper))!.Health);
        lock (changes)
        {
            Assert.DoesNotContain(changes, c => c.HealthChanged.Any(s => s.Endpoint.Equals(Of(flapper))));
        }

        Assert.True(service.GetHealthDetails()[settled.IndexOf(Of(flapper))].ConsecutiveFailures <= 1);
    }

    [Fact]
    public async Task Pods_that_leave_the_set_stop_being_probed()
    {
        HeadlessService service = Start("http:/");
        await WaitAllHealthyAsync(service);

        _resolver.Fallback = ResolutionResult.Success(_pods.Take(2).Select(Of), TimeSpan.FromHours(1));
        // The refresh cancelled the removed pod's loop before it returned: no probe of it starts any more.
        await service.RefreshAsync().AsTask().WaitAsync(Generous);

        // A request cancelled on its way may still land: let in-flight traffic settle over a few rounds first.
        await _pods[0].WaitForRequestsAsync(_pods[0].RequestCount + 3).WaitAsync(Generous);
        long afterRemoval = _pods[2].RequestCount;

        // Several more rounds of the remaining pods, then the removed pod's count must not have moved.
        await _pods[0].WaitForRequestsAsync(_pods[0].RequestCount + 5).WaitAsync(Generous);
        Assert.Equal(afterRemoval, _pods[2].RequestCount);
    }
}
