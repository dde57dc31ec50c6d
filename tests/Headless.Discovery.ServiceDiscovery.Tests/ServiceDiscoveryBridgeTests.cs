using System.Net;
using System.Text.Json;
using Headless.Discovery.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;
using Microsoft.Extensions.ServiceDiscovery;

namespace Headless.Discovery.ServiceDiscovery.Tests;

/// <summary>
/// Microsoft.Extensions.ServiceDiscovery's public resolver and HttpClient handler, through the bridge, against the
/// embedded DNS server and real loopback pods.
/// </summary>
public sealed class ServiceDiscoveryBridgeTests : IAsyncLifetime
{
    private const string Name = "backend.shop.svc.cluster.local";
    private EmbeddedDnsServer _dns = null!;
    private ServiceProvider? _provider;

    public async Task InitializeAsync() => _dns = await EmbeddedDnsServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_provider is not null)
        {
            await _provider.DisposeAsync();
        }

        await _dns.DisposeAsync();
    }

    /// <summary>A container like a host's: configuration, logging, the key <c>backend</c>, service discovery, the bridge.</summary>
    private ServiceProvider Build(
        Action<HeadlessServiceOptions>? configure = null,
        Action<IServiceCollection>? serviceDiscovery = null,
        Dictionary<string, string?>? configuration = null,
        Action<IServiceCollection>? more = null)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(configuration ?? []).Build());
        services.AddLogging();
        services.AddHeadlessDiscovery();
        services.AddHeadlessService("backend", o =>
        {
            o.Name = Name;
            o.DnsServers.Add(_dns.NameServer);
            o.Port = 8080;
            // Generous: a first query that times out on a cold, busy machine would publish an empty, stale first snapshot.
            o.DnsAttemptTimeout = TimeSpan.FromSeconds(5);
            o.DnsRetryCount = 2;
            o.EmptyAnswerConfirmations = 1;
            configure?.Invoke(o);
        });
        (serviceDiscovery ?? (s => s.AddServiceDiscoveryCore()))(services);
        services.AddHeadlessServiceEndpointProvider();
        more?.Invoke(services);
        _provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        return _provider;
    }

    private static IHeadlessService Backend(IServiceProvider sp) => sp.GetRequiredService<IHeadlessServiceRegistry>().GetService("backend");

    private static async Task<ServiceEndpointSource> ResolveAsync(IServiceProvider sp, string name = "http://backend") =>
        await sp.GetRequiredService<ServiceEndpointResolver>().GetEndpointsAsync(name, CancellationToken.None).AsTask().WaitAsync(Generous);

    private static IEnumerable<EndPoint> EndPoints(ServiceEndpointSource source) => source.Endpoints.Select(e => e.EndPoint);

    private static Task WhenChanged(IChangeToken token)
    {
        var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        token.RegisterChangeCallback(static state => ((TaskCompletionSource)state!).TrySetResult(), fired);
        return fired.Task;
    }

    private static async Task<EndpointSet> WaitForAsync(IHeadlessService service, Func<EndpointSet, bool> condition)
    {
        using var timeout = new CancellationTokenSource(Generous);
        await foreach (EndpointSetChange change in service.WatchAsync(timeout.Token))
        {
            if (condition(change.Current))
            {
                return change.Current;
            }
        }

        throw new TimeoutException("the condition was never met");
    }

    [Fact]
    public async Task Resolves_the_registered_key_to_one_endpoint_per_pod()
    {
        IReadOnlyList<IPAddress> addresses = LoopbackAddressPool.Next(3);
        _dns.SetAddresses(Name, addresses);
        ServiceProvider sp = Build();

        ServiceEndpointSource source = await ResolveAsync(sp);

        Assert.Equal(addresses.Select(a => new IPEndPoint(a, 8080)).OrderBy(e => e.ToString()), EndPoints(source).Cast<IPEndPoint>().OrderBy(e => e.ToString()));
        EndpointSet ours = Backend(sp).Current;
        Assert.Equal(ours.Available.Select(p => p.EndPoint), EndPoints(source));
        Assert.All(source.Endpoints, e =>
        {
            // The pod rides along as a feature; no Host header override unless asked for.
            PodEndpoint? pod = e.Features.Get<PodEndpoint>();
            Assert.NotNull(pod);
            Assert.Equal(pod.EndPoint, e.EndPoint);
            Assert.Null(e.Features.Get<IHostNameFeature>());
            Assert.StartsWith("Headless.Discovery", e.Features.Get<IServiceEndpointProvider>()!.ToString(), StringComparison.Ordinal);
        });
        Assert.True(source.ChangeToken.ActiveChangeCallbacks);
        Assert.False(source.ChangeToken.HasChanged);

        // Every scheme form names the same key.
        Assert.Equal(EndPoints(source), EndPoints(await ResolveAsync(sp, "https+http://backend")));
        Assert.Equal(EndPoints(source), EndPoints(await ResolveAsync(sp, "backend")));
    }

    [Fact]
    public async Task A_membership_change_fires_the_change_token_and_the_next_resolution_has_the_new_pods()
    {
        IReadOnlyList<IPAddress> first = LoopbackAddressPool.Next(3);
        _dns.SetAddresses(Name, first);
        ServiceProvider sp = Build();
        ServiceEndpointSource before = await ResolveAsync(sp);
        Assert.Equal(3, before.Endpoints.Count);
        Task fired = WhenChanged(before.ChangeToken);

        // Scale: one pod replaced, one added.
        IReadOnlyList<IPAddress> extra = LoopbackAddressPool.Next(2);
        IPAddress[] second = [first[0], first[1], .. extra];
        _dns.SetAddresses(Name, second);
        await Backend(sp).RefreshAsync().AsTask().WaitAsync(Generous);

        // Changed handlers run off the publishing thread: the token fires soon after the refresh, not inside it.
        await fired.WaitAsync(Generous);
        Assert.True(before.ChangeToken.HasChanged);
        ServiceEndpointSource after = await ResolveAsync(sp);
        Assert.Equal(second.Select(a => new IPEndPoint(a, 8080)).OrderBy(e => e.ToString()), EndPoints(after).Cast<IPEndPoint>().OrderBy(e => e.ToString()));
        Assert.False(after.ChangeToken.HasChanged);
    }

    [Fact]
    public async Task A_refresh_that_changes_nothing_keeps_the_token_quiet()
    {
        _dns.SetAddresses(Name, LoopbackAddressPool.Next(2));
        ServiceProvider sp = Build();
        ServiceEndpointSource source = await ResolveAsync(sp);
        Assert.Equal(2, source.Endpoints.Count);

        await Backend(sp).RefreshAsync().AsTask().WaitAsync(Generous);

        Assert.False(source.ChangeToken.HasChanged);
        Assert.Same(source, await ResolveAsync(sp));
    }

    [Fact]
    public async Task An_unknown_service_name_is_not_claimed()
    {
        _dns.SetAddresses(Name, LoopbackAddressPool.Next(1));
        ServiceProvider sp = Build();

        // Service discovery's own error: no provider claimed the name.
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => ResolveAsync(sp, "http://other"));
        Assert.Contains("No provider which supports the provided service name", ex.Message, StringComparison.Ordinal);
        Assert.IsNotType<NoEndpointAvailableException>(ex);
        Assert.Equal(["backend"], sp.GetRequiredService<IHeadlessServiceRegistry>().Keys);
    }

    [Fact]
    public async Task With_AddServiceDiscovery_unknown_names_fall_through_to_pass_through_and_known_ones_are_ours()
    {
        IReadOnlyList<IPAddress> addresses = LoopbackAddressPool.Next(2);
        _dns.SetAddresses(Name, addresses);
        ServiceProvider sp = Build(serviceDiscovery: s => s.AddServiceDiscovery());

        ServiceEndpointSource other = await ResolveAsync(sp, "http://other:81");
        EndPoint passThrough = Assert.Single(EndPoints(other));
        Assert.Equal(new DnsEndPoint("other", 81), passThrough);

        ServiceEndpointSource backend = await ResolveAsync(sp);
        Assert.Equal(addresses.Select(a => new IPEndPoint(a, 8080)).OrderBy(e => e.ToString()), EndPoints(backend).Cast<IPEndPoint>().OrderBy(e => e.ToString()));
    }

    [Fact]
    public async Task A_configuration_override_registered_before_the_bridge_wins_as_service_discovery_intends()
    {
        _dns.SetAddresses(Name, LoopbackAddressPool.Next(2));
        ServiceProvider sp = Build(
            serviceDiscovery: s => s.AddServiceDiscovery(),
            configuration: new() { ["Services:backend:http:0"] = "10.9.9.9:1234" });

        Assert.Equal([new IPEndPoint(IPAddress.Parse("10.9.9.9"), 1234)], EndPoints(await ResolveAsync(sp)));
    }

    [Fact]
    public async Task A_named_endpoint_is_left_to_other_providers()
    {
        _dns.SetAddresses(Name, LoopbackAddressPool.Next(1));
        ServiceProvider sp = Build(
            serviceDiscovery: s => s.AddServiceDiscovery(),
            configuration: new() { ["Services:backend:grpc:0"] = "10.1.2.3:5000" });

        ServiceEndpointSource grpc = await ResolveAsync(sp, "http://_grpc.backend");

        Assert.Equal([new IPEndPoint(IPAddress.Parse("10.1.2.3"), 5000)], EndPoints(grpc));
        Assert.All(grpc.Endpoints, e => Assert.Null(e.Features.Get<PodEndpoint>()));
    }

    [Fact]
    public async Task With_no_pod_it_adds_none_and_the_token_brings_the_pods_in()
    {
        ServiceProvider sp = Build(); // the name does not exist yet: NXDOMAIN

        ServiceEndpointSource empty = await ResolveAsync(sp);
        Assert.Empty(empty.Endpoints);
        Assert.True(Backend(sp).Current.Version > 0);

        Task fired = WhenChanged(empty.ChangeToken);
        IReadOnlyList<IPAddress> addresses = LoopbackAddressPool.Next(2);
        _dns.SetAddresses(Name, addresses);
        await Backend(sp).RefreshAsync().AsTask().WaitAsync(Generous);

        await fired.WaitAsync(Generous);
        Assert.True(empty.ChangeToken.HasChanged);
        Assert.Equal(addresses.Select(a => new IPEndPoint(a, 8080)).OrderBy(e => e.ToString()), EndPoints(await ResolveAsync(sp)).Cast<IPEndPoint>().OrderBy(e => e.ToString()));
    }

    [Fact]
    public async Task Unhealthy_pods_are_left_out_and_come_back_when_healthy()
    {
        await using LoopbackPodSet pods = await LoopbackPodSet.StartAsync(3, 0, "web");
        pods.SyncToDns(_dns, Name, TimeSpan.FromSeconds(5));
        LoopbackPod sick = pods.Pods[1];
        sick.Behavior = PodBehavior.Status(503);
        ServiceProvider sp = Build(o =>
        {
            o.Port = pods.Port;
            o.ActiveHealth.Probe = "http:/";
            o.ActiveHealth.Interval = TimeSpan.FromMilliseconds(100);
            o.ActiveHealth.UnhealthyThreshold = 1;
            o.ActiveHealth.HealthyThreshold = 1;
        });
        IHeadlessService backend = Backend(sp);
        backend.Start();
        await WaitForAsync(backend, s => s.Endpoints.Length == 3 && s.UnhealthyCount == 1 && s.HealthyCount == 2);

        ServiceEndpointSource source = await ResolveAsync(sp);
        Assert.Equal(pods.Pods.Where(p => p != sick).Select(p => p.EndPoint).OrderBy(e => e.ToString()), EndPoints(source).Cast<IPEndPoint>().OrderBy(e => e.ToString()));

        // Healthy again: a health-only snapshot (same members) fires the token too.
        Task fired = WhenChanged(source.ChangeToken);
        sick.Behavior = PodBehavior.Healthy;
        await fired.WaitAsync(Generous);
        Assert.Equal(pods.Pods.Select(p => p.EndPoint).OrderBy(e => e.ToString()), EndPoints(await ResolveAsync(sp)).Cast<IPEndPoint>().OrderBy(e => e.ToString()));
    }

    [Fact]
    public async Task Host_name_metadata_carries_the_pod_hostname_from_SRV_when_asked_for()
    {
        await using LoopbackPodSet pods = await LoopbackPodSet.StartAsync(2, 0, "web");
        pods.SyncToDns(_dns, Name, TimeSpan.FromSeconds(5), srvName: "_http._tcp." + Name);
        ServiceProvider sp = Build(
            o =>
            {
                o.Name = "_http._tcp." + Name;
                o.UseSrv = true;
                o.Port = 0;
            },
            more: s => s.AddHeadlessServiceEndpointProvider(o => o.ApplyHostNameMetadata = true));

        ServiceEndpointSource source = await ResolveAsync(sp);

        Assert.Equal(2, source.Endpoints.Count);
        Assert.All(source.Endpoints, e =>
        {
            PodEndpoint pod = e.Features.Get<PodEndpoint>()!;
            Assert.NotNull(pod.Hostname);
            Assert.Equal(pod.Hostname, e.Features.Get<IHostNameFeature>()!.HostName);
        });
        Assert.Single(sp.GetServices<IServiceEndpointProviderFactory>(), f => f is HeadlessServiceEndpointProviderFactory);
    }

    [Fact]
    public async Task An_HttpClient_with_the_service_discovery_handler_reaches_the_pods_and_follows_changes()
    {
        await using LoopbackPodSet pods = await LoopbackPodSet.StartAsync(3, 0, "web");
        pods.SyncToDns(_dns, Name, TimeSpan.FromSeconds(5));
        ServiceProvider sp = Build(
            o => o.Port = pods.Port,
            serviceDiscovery: s => s.AddServiceDiscovery(),
            more: s => s.AddHttpClient("backend", c => c.BaseAddress = new Uri("http://backend/")).AddServiceDiscovery());
        HttpClient client = sp.GetRequiredService<IHttpClientFactory>().CreateClient("backend");

        async Task<string> PodAsync()
        {
            string body = await client.GetStringAsync(new Uri("/hello", UriKind.Relative)).WaitAsync(Generous);
            return JsonDocument.Parse(body).RootElement.GetProperty("pod").GetString()!;
        }

        var answered = new List<string>();
        for (int i = 0; i < 30; i++)
        {
            answered.Add(await PodAsync());
        }

        Assert.Equal(pods.Pods.Select(p => p.Name).Order(), answered.Distinct().Order());
        Assert.Equal(30, pods.Pods.Sum(p => p.RequestCount));

        // A pod goes away: once ME.SD has taken our change (its token fires off the publishing thread, after the
        // refresh), no request reaches it.
        Task fired = WhenChanged((await ResolveAsync(sp)).ChangeToken);
        LoopbackPod gone = pods.Pods[0];
        string goneName = gone.Name;
        await pods.RemovePodAsync(gone);
        pods.SyncToDns(_dns, Name, TimeSpan.FromSeconds(5));
        await Backend(sp).RefreshAsync().AsTask().WaitAsync(Generous);
        await fired.WaitAsync(Generous);
        Assert.Equal(2, (await ResolveAsync(sp)).Endpoints.Count);

        answered.Clear();
        for (int i = 0; i < 20; i++)
        {
            answered.Add(await PodAsync());
        }

        Assert.DoesNotContain(goneName, answered);
        Assert.Equal(pods.Pods.Select(p => p.Name).Order(), answered.Distinct().Order());
    }
}
