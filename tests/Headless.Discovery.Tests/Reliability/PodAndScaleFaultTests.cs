using Headless.Discovery.TestSupport;
using System.Collections.Concurrent;
using System.Net;
using Headless.Discovery;
using Headless.Discovery.Testing;
using Headless.Discovery.Tests.Health;
using Headless.Discovery.Tests.Refresh;
using Microsoft.Extensions.Logging;

namespace Headless.Discovery.Tests.Reliability;

/// <summary>Pod faults, process faults and scale (listed in RELIABILITY.md), against real loopback pods where it matters.</summary>
public sealed class PodAndScaleFaultTests : IAsyncLifetime
{
    private static readonly ServiceName Svc = ServiceName.Parse("web.default.svc.cluster.local");
    private readonly List<IAsyncDisposable> _cleanup = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        for (int i = _cleanup.Count - 1; i >= 0; i--)
        {
            await _cleanup[i].DisposeAsync();
        }
    }

    private T Track<T>(T item) where T : IAsyncDisposable
    {
        _cleanup.Add(item);
        return item;
    }

    private HeadlessService Service(IEndpointResolver resolver, Action<HeadlessServiceOptions> configure, ILoggerFactory? logging = null)
    {
        var options = new HeadlessServiceOptions { MaxRefreshInterval = TimeSpan.FromHours(1) };
        configure(options);
        var service = Track(new HeadlessService(Svc, resolver, options, loggerFactory: logging));
        service.Start();
        return service;
    }

    private static PodEndpoint Of(LoopbackPod pod) => new(pod.Address, pod.Port);

    [Fact]
    public async Task A_slow_pod_is_unhealthy_past_the_probe_timeout_and_healthy_within_it()
    {
        LoopbackPod slow = Track(await LoopbackPod.StartHttpAsync(LoopbackAddressPool.Next(), name: "slow"));
        LoopbackPod sluggish = Track(await LoopbackPod.StartHttpAsync(LoopbackAddressPool.Next(), name: "sluggish"));
        slow.Behavior = PodBehavior.Slow(TimeSpan.FromSeconds(3));
        sluggish.Behavior = PodBehavior.Slow(TimeSpan.FromMilliseconds(20));
        var resolver = new ScriptedResolver(ResolutionResult.Success([Of(slow), Of(sluggish)], TimeSpan.FromHours(1)));

        HeadlessService service = Service(resolver, o =>
        {
            o.ActiveHealth.Probe = "http:/";
            o.ActiveHealth.Interval = TimeSpan.FromMilliseconds(100);
            o.ActiveHealth.Timeout = TimeSpan.FromMilliseconds(500);
            o.ActiveHealth.UnhealthyThreshold = 1;
            o.ActiveHealth.HealthyThreshold = 1;
        });

        EndpointSet set = await service.WaitAsync(
            s => s.GetStatus(Of(slow))?.Health == EndpointHealth.Unhealthy && s.GetStatus(Of(sluggish))?.Health == EndpointHealth.Healthy,
            CancellationToken.None).AsTask().WaitAsync(Generous);
        Assert.Equal("timed out after 500 ms", set.GetStatus(Of(slow))!.LastError);
        Assert.Equal([Of(sluggish)], set.Available.ToArray());
    }

    [Fact]
    public async Task An_http_probe_reads_at_most_the_body_cap_of_an_endless_body()
    {
        // Declares 100 MB, sends 8 KiB, then closes: reading it all would fail; the probe stops at the cap.
        await using RawServer server = RawServer.Start("HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n" + new string('x', 8192));
        using var probe = new HttpProbe("/", options: new HttpProbeOptions { MaxResponseBodyBytes = 1024 });
        var endpoint = new PodEndpoint(server.EndPoint.Address, server.EndPoint.Port);
        ProbeResult result = await probe.ProbeAsync(endpoint, TimeSpan.FromSeconds(10)).AsTask().WaitAsync(Generous);
        Assert.True(result.Succeeded, result.Error);
    }

    [Fact]
    public async Task Probe_paths_with_secrets_never_reach_logs_or_statuses()
    {
        LoopbackPod pod = Track(await LoopbackPod.StartHttpAsync(LoopbackAddressPool.Next(), name: "failing"));
        pod.Behavior = PodBehavior.Status(503);
        var logs = new CapturingLoggerFactory();
        var resolver = new ScriptedResolver(ResolutionResult.Success([Of(pod)], TimeSpan.FromHours(1)));
        HeadlessService service = Service(resolver, o =>
        {
            o.ActiveHealth.Probe = "http:/healthz?token=s3cr3t-t0ken";
            o.ActiveHealth.Interval = TimeSpan.FromMilliseconds(100);
            o.ActiveHealth.UnhealthyThreshold = 1;
        }, logs);

        EndpointSet set = await service.WaitAsync(s => s.UnhealthyCount == 1, CancellationToken.None).AsTask().WaitAsync(Generous);
        Assert.DoesNotContain("s3cr3t", set.Statuses[0].LastError ?? string.Empty, StringComparison.Ordinal);
        Assert.NotEmpty(logs.Messages);
        Assert.DoesNotContain(logs.Messages, m => m.Contains("s3cr3t", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Disposal_while_a_fan_out_and_connects_are_in_flight_loses_nothing()
    {
        LoopbackPod hanging = Track(await LoopbackPod.StartTcpAsync(LoopbackAddressPool.Next(), name: "hanging"));
        var resolver = new ScriptedResolver(ResolutionResult.Success([Of(hanging)], TimeSpan.FromHours(1)));
        var service = new HeadlessService(Svc, resolver, new HeadlessServiceOptions());
        await service.WaitForEndpointsAsync(1).AsTask().WaitAsync(Generous);

        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<FanOutResult<int>> fanOut = service.FanOutAsync<int>(async (_, ct) =>
        {
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
            return 0;
        });

        var connecting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var connections = new ConnectionSet<System.Net.Sockets.Socket>(
            service,
            async (endpoint, ct) =>
            {
                connecting.TrySetResult();
                await Task.Delay(Timeout.Infinite, ct);
                throw new InvalidOperationException("unreachable");
            });
        connections.Start();
        await Task.WhenAll(started.Task, connecting.Task).WaitAsync(Generous);

        await service.DisposeAsync().AsTask().WaitAsync(Generous);
        await connections.DisposeAsync().AsTask().WaitAsync(Generous);
        Assert.Empty(connections.Connections);

        // Disposing the service cancelled the fan-out it was running: it ends with ObjectDisposedException (an
        // OperationCanceledException would claim the caller cancelled, which it did not).
        await Assert.ThrowsAsync<ObjectDisposedException>(() => fanOut.WaitAsync(Generous));
    }

    [Fact]
    public async Task Ten_thousand_endpoints_are_diffed_probed_within_the_bound_and_selected()
    {
        const int Count = 10_000;
        PodEndpoint[] pods = Enumerable.Range(0, Count).Select(i => new PodEndpoint(new IPAddress([10, (byte)(i >> 16), (byte)(i >> 8), (byte)i]), 8080)).ToArray();
        var resolver = new ScriptedResolver(ResolutionResult.Success(pods, TimeSpan.FromHours(1)));
        int inFlight = 0, maxInFlight = 0;
        var probed = new ConcurrentDictionary<PodEndpoint, int>();
        var probe = new DelegateProbe(async (endpoint, ct) =>
        {
            int now = Interlocked.Increment(ref inFlight);
            AtomicMax.Raise(ref maxInFlight, now);
            probed.AddOrUpdate(endpoint, 1, (_, n) => n + 1);
            await Task.Yield();
            Interlocked.Decrement(ref inFlight);
            return ProbeResult.Healthy();
        });

        HeadlessService service = Service(resolver, o =>
        {
            o.MaxEndpoints = Count;
            o.ActiveHealth.CustomProbe = probe;
            o.ActiveHealth.Interval = TimeSpan.FromHours(1);
            o.ActiveHealth.HealthyThreshold = 1;
            o.ActiveHealth.MaxConcurrentProbes = 16;
        });

        EndpointSet healthy = await service.WaitAsync(s => s.HealthyCount == Count, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(Count, probed.Count);
        Assert.InRange(maxInFlight, 1, 16);

        // Every pod is selectable, and a full round robin cycle visits each once.
        IEndpointSelector selector = EndpointSelectors.RoundRobin(service);
        var seen = new HashSet<PodEndpoint>();
        for (int i = 0; i < Count; i++)
        {
            seen.Add(selector.Pick());
        }

        Assert.Equal(Count, seen.Count);

        // 1 % churn: 100 leave, 100 join; the diff says exactly that and only the newcomers get probed.
        PodEndpoint[] joined = Enumerable.Range(Count, 100).Select(i => new PodEndpoint(new IPAddress([10, (byte)(i >> 16), (byte)(i >> 8), (byte)i]), 8080)).ToArray();
        resolver.Fallback = ResolutionResult.Success(pods.Skip(100).Concat(joined), TimeSpan.FromHours(1));
        var changes = new ChangeLog();
        service.Changed += changes.Handler;
        EndpointSet refreshed = await service.RefreshAsync().AsTask().WaitAsync(Generous);
        await changes.WaitForAsync(refreshed.Version).WaitAsync(Generous);
        EndpointSetChange membership = changes.Changes.First(c => c.Kind.HasFlag(EndpointSetChangeKind.Membership));
        Assert.Equal(100, membership.Added.Length);
        Assert.Equal(100, membership.Removed.Length);

        await service.WaitAsync(s => s.HealthyCount == Count, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.All(joined, p => Assert.Equal(1, probed[p]));
        Assert.All(pods.Skip(100), p => Assert.Equal(1, probed[p]));
        Assert.True(service.Current.Version > healthy.Version);
    }

    private sealed class CapturingLoggerFactory : ILoggerFactory, ILogger
    {
        private readonly ConcurrentQueue<string> _messages = new();

        public IReadOnlyCollection<string> Messages => _messages;

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public ILogger CreateLogger(string categoryName) => this;

        public void Dispose()
        {
        }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            _messages.Enqueue(formatter(state, exception) + " " + exception);
    }
}
