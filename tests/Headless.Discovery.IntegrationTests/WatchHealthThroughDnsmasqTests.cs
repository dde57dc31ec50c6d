using System.Diagnostics;
using System.Globalization;
using System.Net;
using Headless.Discovery.Cli;
using Headless.Discovery.Cli.Tests;
using Headless.Discovery.Testing;
using Xunit.Abstractions;

namespace Headless.Discovery.IntegrationTests;

/// <summary>
/// <c>watch --probe http:/ --json</c> through a real dnsmasq, probing real HTTP pods on 127.x loopback addresses:
/// the acceptance bound for a stopped pod, recovery after restart, and no probes for pods that left DNS.
/// </summary>
[Collection(DnsmasqTests.Name)]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class WatchHealthThroughDnsmasqTests(DnsmasqFixture dnsmasq, ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromMilliseconds(500);
    private const int UnhealthyThreshold = 3;
    private const int HealthyThreshold = 2;

    /// <summary>The bound: interval × unhealthy-threshold + timeout, plus one second.</summary>
    private static readonly TimeSpan UnhealthyBound = (Interval * UnhealthyThreshold) + ProbeTimeout + TimeSpan.FromSeconds(1);

    private LoopbackPodSet _pods = null!;

    public async Task InitializeAsync() => _pods = await LoopbackPodSet.StartAsync(3, namePrefix: "web");

    public async Task DisposeAsync() => await _pods.DisposeAsync();

    private string Key(LoopbackPod pod) => string.Create(CultureInfo.InvariantCulture, $"{pod.Address}:{_pods.Port}");

    /// <summary>Its DNS attempts expect answers, so their timeout is generous; only the probes are meant to fail.</summary>
    private BackgroundRun StartWatch(string name) => new(
        CliServices.Default,
        "watch", name, "--dns-server", dnsmasq.NameServer, "--port", _pods.Port.ToString(CultureInfo.InvariantCulture),
        "--min-refresh-interval", "200ms", "--max-refresh-interval", "1s", "--dns-attempt-timeout", "5s", "--dns-retry-count", "0", "--json",
        "--probe", "http:/", "--probe-interval", DurationParser.Format(Interval), "--probe-timeout", DurationParser.Format(ProbeTimeout),
        "--unhealthy-threshold", UnhealthyThreshold.ToString(CultureInfo.InvariantCulture),
        "--healthy-threshold", HealthyThreshold.ToString(CultureInfo.InvariantCulture));

    [Fact]
    public async Task A_stopped_pod_is_reported_unhealthy_within_the_bound_and_healthy_after_restart()
    {
        const string name = "watch-health.default.svc.cluster.local";
        await dnsmasq.SetHostsAsync(name, _pods.Pods.Select(p => p.Address).ToArray());
        await using BackgroundRun run = StartWatch(name);

        (int i, _) = await WatchLine.WaitAsync(run.Stdout, w => w.Healthy.Length == 3 && w.Healthy.All(h => h == true), what: "all three pods healthy:true");
        LoopbackPod victim = _pods.Pods[1];

        await victim.StopAsync();
        long stopped = Stopwatch.GetTimestamp();
        (i, WatchLine down) = await WatchLine.WaitAsync(
            run.Stdout, w => w.HealthOf(Key(victim)) == false, i + 1, UnhealthyBound, $"healthy:false within {UnhealthyBound.TotalSeconds} s");
        output.WriteLine($"stopped pod reported healthy:false after {Stopwatch.GetElapsedTime(stopped).TotalMilliseconds:0} ms (bound {UnhealthyBound.TotalMilliseconds:0} ms)");
        Assert.Equal(3, down.Endpoints.Length);
        Assert.Equal([true, false, true], down.Healthy);
        Assert.Empty(down.Added);
        Assert.Empty(down.Removed);

        await victim.StartAsync();
        long restarted = Stopwatch.GetTimestamp();
        (_, WatchLine up) = await WatchLine.WaitAsync(run.Stdout, w => w.HealthOf(Key(victim)) == true, i + 1, what: "healthy:true after the restart");
        output.WriteLine($"restarted pod reported healthy:true after {Stopwatch.GetElapsedTime(restarted).TotalMilliseconds:0} ms (healthy threshold {HealthyThreshold} × {Interval.TotalMilliseconds:0} ms)");
        Assert.True(victim.RequestCount >= HealthyThreshold);
        Assert.True(up.Version > down.Version);

        Assert.Equal(0, await run.StopAsync());
    }

    [Fact]
    public async Task Pods_that_left_dns_stop_being_probed()
    {
        const string name = "watch-health-leave.default.svc.cluster.local";
        await dnsmasq.SetHostsAsync(name, _pods.Pods.Select(p => p.Address).ToArray());
        await using BackgroundRun run = StartWatch(name);
        (int i, _) = await WatchLine.WaitAsync(run.Stdout, w => w.Healthy.Length == 3 && w.Healthy.All(h => h == true), what: "all three pods healthy:true");

        LoopbackPod leaving = _pods.Pods[2];
        await dnsmasq.SetHostsAsync(name, _pods.Pods.Take(2).Select(p => p.Address).ToArray());
        (_, WatchLine shrunk) = await WatchLine.WaitAsync(run.Stdout, w => w.Endpoints.Length == 2, i + 1, what: "the pod gone from DNS");
        Assert.Equal([Key(leaving)], shrunk.Removed);

        // Let a probe already on its way land, then the count must stay put while the others are probed on.
        LoopbackPod staying = _pods.Pods[0];
        await staying.WaitForRequestsAsync(staying.RequestCount + 2).WaitAsync(TimeSpan.FromSeconds(30));
        long afterLeaving = leaving.RequestCount;
        await staying.WaitForRequestsAsync(staying.RequestCount + 4).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(afterLeaving, leaving.RequestCount);

        Assert.Equal(0, await run.StopAsync());
    }
}
