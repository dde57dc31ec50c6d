using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Model;
using Yarp.ReverseProxy.ServiceDiscovery;

namespace Headless.Discovery.Yarp.Tests;

/// <summary>
/// A real YARP proxy (Kestrel on loopback) forwarding to real loopback HTTP pods, which a real
/// <see cref="HeadlessService"/> finds through the embedded DNS server.
/// </summary>
public sealed class ProxyTests : IAsyncLifetime
{
    private const string Name = "backend.shop.svc.cluster.local";
    private const string SrvName = "_http._tcp." + Name;
    private readonly List<IAsyncDisposable> _owned = [];
    private EmbeddedDnsServer _dns = null!;

    public async Task InitializeAsync() => _dns = await EmbeddedDnsServer.StartAsync();

    public async Task DisposeAsync()
    {
        // The proxy first (it holds the services), then the pods, then DNS.
        for (int i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync();
        }

        await _dns.DisposeAsync();
    }

    private async Task<LoopbackPodSet> StartPodsAsync(int count)
    {
        LoopbackPodSet pods = await LoopbackPodSet.StartAsync(count, 0, "web");
        _owned.Add(pods);
        return pods;
    }

    /// <summary>Pods in DNS under <see cref="Name"/> and a proxy whose destinations are all of them.</summary>
    private async Task<(LoopbackPodSet Pods, ProxyHost Proxy)> StartProxiedPodsAsync(int count)
    {
        LoopbackPodSet pods = await StartPodsAsync(count);
        pods.SyncToDns(_dns, Name);
        ProxyHost proxy = await StartProxyAsync(pods.Port);
        await proxy.WaitForAddressesAsync(pods.Pods.Select(Url));
        return (pods, proxy);
    }

    private async Task<ProxyHost> StartProxyAsync(
        int port,
        Dictionary<string, DestinationConfig>? destinations = null,
        Action<HeadlessServiceOptions>? configure = null)
    {
        ProxyHost proxy = await ProxyHost.StartAsync(
            destinations ?? new() { ["backend"] = new DestinationConfig { Address = "http://backend/" } },
            services => services.AddHeadlessService("backend", o =>
            {
                o.Name = Name;
                o.DnsServers.Add(_dns.NameServer);
                o.Port = port;
                // Generous: a first query that times out on a cold, busy machine would publish an empty first snapshot.
                o.DnsAttemptTimeout = TimeSpan.FromSeconds(5);
                o.DnsRetryCount = 2;
                o.EmptyAnswerConfirmations = 1;
                configure?.Invoke(o);
            }));
        _owned.Add(proxy);
        return proxy;
    }

    private static IHeadlessService Backend(ProxyHost proxy) => proxy.Services.GetRequiredKeyedService<IHeadlessService>("backend");

    private static string Url(LoopbackPod pod) => $"http://{pod.Address}:{pod.Port}/";

    private static Dictionary<string, long> Counts(IEnumerable<LoopbackPod> pods) => pods.ToDictionary(p => p.Name, p => p.RequestCount);

    private static async Task<List<string>> SendAsync(ProxyHost proxy, int count)
    {
        var answered = new List<string>(count);
        for (int i = 0; i < count; i++)
        {
            answered.Add(await proxy.GetPodAsync());
        }

        return answered;
    }

    private static Task WhenChanged(IChangeToken token)
    {
        var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        token.RegisterChangeCallback(static s => ((TaskCompletionSource)s!).TrySetResult(), fired);
        return fired.Task;
    }

    [Fact]
    public async Task Requests_through_the_proxy_spread_over_every_pod()
    {
        (LoopbackPodSet pods, ProxyHost proxy) = await StartProxiedPodsAsync(3);

        List<string> answered = await SendAsync(proxy, 30);

        // Round robin over the three pod destinations: each pod answers a third, and counts it itself.
        Assert.Equal(pods.Pods.Select(p => p.Name).Order(), answered.Distinct().Order());
        Assert.All(pods.Pods, p => Assert.Equal(10, p.RequestCount));
    }

    [Fact]
    public async Task Churn_is_followed_within_a_refresh()
    {
        (LoopbackPodSet pods, ProxyHost proxy) = await StartProxiedPodsAsync(3);
        Assert.Equal(pods.Pods.Select(p => p.Name).Order(), (await SendAsync(proxy, 6)).Distinct().Order());

        // A pod is added and one removed in DNS (the removed one keeps running, as a terminating pod would).
        LoopbackPod added = await pods.AddPodAsync();
        LoopbackPod removed = pods.Pods[1];
        LoopbackPod[] now = [pods.Pods[0], pods.Pods[2], added];
        _dns.SetAddresses(Name, now.Select(p => p.Address));
        await Backend(proxy).RefreshAsync().AsTask().WaitAsync(Generous);
        await proxy.WaitForAddressesAsync(now.Select(Url));

        List<string> answered = await SendAsync(proxy, 30);

        Assert.Equal(now.Select(p => p.Name).Order(), answered.Distinct().Order());
        Assert.All(now, p => Assert.Equal(10, answered.Count(a => a == p.Name)));
        Assert.True(removed.IsRunning);
    }

    [Fact]
    public async Task No_request_reaches_a_removed_pod_once_the_change_token_fired_and_YARP_applied_it()
    {
        (LoopbackPodSet pods, ProxyHost proxy) = await StartProxiedPodsAsync(4);
        await SendAsync(proxy, 8);
        var configured = new Dictionary<string, DestinationConfig> { ["backend"] = new() { Address = "http://backend/" } };
        ResolvedDestinationCollection before = await proxy.Services.GetRequiredService<IDestinationResolver>()
            .ResolveDestinationsAsync(configured, CancellationToken.None).AsTask().WaitAsync(Generous);
        Task fired = WhenChanged(before.ChangeToken!);

        LoopbackPod removed = pods.Pods[2];
        LoopbackPod[] remaining = [.. pods.Pods.Where(p => p != removed)];
        _dns.SetAddresses(Name, remaining.Select(p => p.Address));
        await Backend(proxy).RefreshAsync().AsTask().WaitAsync(Generous);
        await fired.WaitAsync(Generous);
        await proxy.WaitForAddressesAsync(remaining.Select(Url));
        Dictionary<string, long> countsBefore = Counts(pods.Pods);

        await SendAsync(proxy, 60);

        // The removed pod still runs and counts every request it gets: none after the change.
        Assert.True(removed.IsRunning);
        Assert.Equal(countsBefore[removed.Name], removed.RequestCount);
        Assert.All(remaining, p => Assert.Equal(countsBefore[p.Name] + 20, p.RequestCount));
    }

    [Fact]
    public async Task A_destination_whose_host_is_not_a_registered_key_is_left_alone()
    {
        LoopbackPodSet pods = await StartPodsAsync(2);
        pods.SyncToDns(_dns, Name);
        LoopbackPod outside = await LoopbackPod.StartHttpAsync(LoopbackAddressPool.Next(), 0, "outside");
        _owned.Add(outside);
        ProxyHost proxy = await StartProxyAsync(
            pods.Port,
            new()
            {
                ["backend"] = new DestinationConfig { Address = "http://backend/" },
                ["outside"] = new DestinationConfig { Address = Url(outside) },
            });
        await proxy.WaitForAddressesAsync([.. pods.Pods.Select(Url), Url(outside)]);

        DestinationState kept = Assert.Single(proxy.Destinations(), d => d.DestinationId == "outside");
        Assert.Equal(Url(outside), kept.Model.Config.Address);
        Assert.Null(kept.Model.Config.Host);
        List<string> answered = await SendAsync(proxy, 30);

        Assert.Equal(10, answered.Count(a => a == "outside"));
        Assert.Equal(10, outside.RequestCount);
        Assert.All(pods.Pods, p => Assert.Equal(10, p.RequestCount));
    }

    [Fact]
    public async Task Destinations_are_named_by_address_and_port_from_A_records()
    {
        (LoopbackPodSet pods, ProxyHost proxy) = await StartProxiedPodsAsync(2);

        Assert.Equal(
            pods.Pods.Select(p => $"{p.Address}:{p.Port}").Order(StringComparer.Ordinal),
            proxy.Destinations().Select(d => d.DestinationId).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Destinations_are_named_by_SRV_hostname_with_the_ordinal_and_keep_their_YARP_state_across_churn()
    {
        LoopbackPodSet pods = await StartPodsAsync(2);
        pods.SyncToDns(_dns, Name, srvName: SrvName);
        ProxyHost proxy = await StartProxyAsync(0, configure: o =>
        {
            o.Name = SrvName;
            o.UseSrv = true;
        });
        await proxy.WaitForAddressesAsync(pods.Pods.Select(Url));

        Assert.Equal([$"web-0.{Name}", $"web-1.{Name}"], proxy.Destinations().Select(d => d.DestinationId).Order(StringComparer.Ordinal));
        Assert.Equal([0, 1], Backend(proxy).Current.Available.Select(p => p.Ordinal!.Value).Order());
        DestinationState web0 = Assert.Single(proxy.Destinations(), d => d.DestinationId == $"web-0.{Name}");

        // Scale up: web-2 joins; web-0 is the same YARP destination (same name, same state object) as before.
        await pods.AddPodAsync();
        pods.SyncToDns(_dns, Name, srvName: SrvName);
        await Backend(proxy).RefreshAsync().AsTask().WaitAsync(Generous);
        await proxy.WaitForAddressesAsync(pods.Pods.Select(Url));

        Assert.Equal([$"web-0.{Name}", $"web-1.{Name}", $"web-2.{Name}"], proxy.Destinations().Select(d => d.DestinationId).Order(StringComparer.Ordinal));
        Assert.Same(web0, Assert.Single(proxy.Destinations(), d => d.DestinationId == $"web-0.{Name}"));
        Assert.Equal(pods.Pods.Select(p => p.Name).Order(), (await SendAsync(proxy, 9)).Distinct().Order());
    }

    [Fact]
    public async Task A_pod_our_health_checks_find_unhealthy_leaves_YARP_and_comes_back_when_healthy()
    {
        LoopbackPodSet pods = await StartPodsAsync(3);
        pods.SyncToDns(_dns, Name);
        LoopbackPod sick = pods.Pods[1];
        sick.Behavior = PodBehavior.Status(503);
        ProxyHost proxy = await StartProxyAsync(pods.Port, configure: o =>
        {
            o.ActiveHealth.Probe = "http:/";
            o.ActiveHealth.Interval = TimeSpan.FromMilliseconds(100);
            o.ActiveHealth.UnhealthyThreshold = 1;
            o.ActiveHealth.HealthyThreshold = 1;
        });
        await proxy.WaitForAddressesAsync(pods.Pods.Where(p => p != sick).Select(Url));

        List<string> answered = await SendAsync(proxy, 20);

        Assert.DoesNotContain(sick.Name, answered);
        Assert.Equal(2, answered.Distinct().Count());

        sick.Behavior = PodBehavior.Healthy;
        await proxy.WaitForAddressesAsync(pods.Pods.Select(Url));
        // (The sick pod's own request count includes the probes, so the proxied answers tell who served.)
        Assert.Contains(sick.Name, await SendAsync(proxy, 3));
    }
}
