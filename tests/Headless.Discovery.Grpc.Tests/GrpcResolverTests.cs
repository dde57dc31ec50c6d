using System.Net;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Grpc.Net.Client.Configuration;
using Headless.Discovery.Examples.Grpc;
using Headless.Discovery.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Headless.Discovery.Grpc.Tests;

/// <summary>
/// A real grpc-dotnet channel on <c>headless:///greeter</c> against real gRPC servers on distinct loopback addresses,
/// resolved through the embedded DNS server: the channel follows the service's available pods.
/// </summary>
public sealed class GrpcResolverTests : IAsyncLifetime
{
    private const string Name = "greeter.default.svc.cluster.local";
    private static readonly TimeSpan Generous = TestTimeouts.Generous;
    private readonly List<GrpcPod> _pods = [];
    private EmbeddedDnsServer _dns = null!;
    private ServiceProvider? _provider;
    private int _port;

    public async Task InitializeAsync()
    {
        _dns = await EmbeddedDnsServer.StartAsync(IPAddress.Loopback);
        foreach (IPAddress address in LoopbackAddressPool.Next(3))
        {
            GrpcPod pod = await GrpcPod.StartAsync($"greeter-{_pods.Count}", address, _port);
            _port = pod.Port;
            _pods.Add(pod);
        }

        PublishInDns(_pods);
    }

    public async Task DisposeAsync()
    {
        if (_provider is not null)
        {
            await _provider.DisposeAsync();
        }

        foreach (GrpcPod pod in _pods)
        {
            await pod.DisposeAsync();
        }

        await _dns.DisposeAsync();
    }

    private void PublishInDns(IEnumerable<GrpcPod> pods, TimeSpan? ttl = null) => _dns.SetAddresses(Name, pods.Select(p => p.Address), ttl);

    private (Greeter.GreeterClient Client, IHeadlessService Service) Create(Action<HeadlessServiceOptions>? configure = null)
    {
        var services = new ServiceCollection();
        services.AddHeadlessService("greeter", o =>
        {
            o.Name = Name;
            o.Port = _port;
            o.DnsServers.Add(_dns.NameServer);
            o.EmptyAnswerConfirmations = 1;
            configure?.Invoke(o);
        });
        services.AddHeadlessGrpcResolver();
        services.AddGrpcClient<Greeter.GreeterClient>(o => o.Address = new Uri("headless:///greeter"))
            .ConfigureChannel(o =>
            {
                o.Credentials = ChannelCredentials.Insecure;
                o.ServiceConfig = new ServiceConfig { LoadBalancingConfigs = { new RoundRobinConfig() } };
            });
        _provider = services.BuildServiceProvider();
        return (_provider.GetRequiredService<Greeter.GreeterClient>(), _provider.GetRequiredKeyedService<IHeadlessService>("greeter"));
    }

    private static async Task<string> CallAsync(Greeter.GreeterClient client, bool waitForReady = false)
    {
        var options = new CallOptions(deadline: DateTime.UtcNow + Generous);
        HelloReply reply = await client.SayHelloAsync(new HelloRequest { Name = "test" }, waitForReady ? options.WithWaitForReady() : options);
        return reply.Pod;
    }

    /// <summary>Calls until every pod in <paramref name="expected"/> has answered once (their connections are ready).</summary>
    private static async Task WarmUpAsync(Greeter.GreeterClient client, IEnumerable<GrpcPod> expected)
    {
        var missing = expected.Select(p => p.Name).ToHashSet();
        using var timeout = new CancellationTokenSource(Generous);
        while (missing.Count > 0)
        {
            timeout.Token.ThrowIfCancellationRequested();
            missing.Remove(await CallAsync(client, waitForReady: true));
        }
    }

    /// <summary>A task that completes when the service publishes a snapshot that satisfies <paramref name="condition"/>.</summary>
    private static Task<EndpointSet> NextAsync(IHeadlessService service, Func<EndpointSet, bool> condition)
    {
        var reached = new TaskCompletionSource<EndpointSet>(TaskCreationOptions.RunContinuationsAsynchronously);
        EventHandler<EndpointSetChange>? handler = null;
        handler = (_, change) =>
        {
            if (condition(change.Current))
            {
                service.Changed -= handler;
                reached.TrySetResult(change.Current);
            }
        };

        // Subscribed after the channel's resolver: handlers run in order, so when this one runs the channel has the set.
        service.Changed += handler;
        return reached.Task.WaitAsync(Generous);
    }

    [Fact]
    public async Task Calls_reach_every_pod_under_round_robin()
    {
        (Greeter.GreeterClient client, _) = Create();
        await WarmUpAsync(client, _pods);

        var answered = new Dictionary<string, int>();
        for (int i = 0; i < 30; i++)
        {
            string pod = await CallAsync(client);
            answered[pod] = answered.GetValueOrDefault(pod) + 1;
        }

        Assert.Equal(_pods.Select(p => p.Name).Order(), answered.Keys.Order());
        Assert.All(answered.Values, count => Assert.Equal(10, count));
    }

    [Fact]
    public async Task A_scaled_down_pod_gets_no_call_after_the_refresh_that_drops_it()
    {
        (Greeter.GreeterClient client, IHeadlessService service) = Create();
        await WarmUpAsync(client, _pods);

        // The pod keeps serving: had a call gone to it, its count would show it.
        GrpcPod removed = _pods[2];
        PublishInDns(_pods.Take(2));
        Task<EndpointSet> dropped = NextAsync(service, set => set.Endpoints.Length == 2);
        await service.RefreshAsync();
        await dropped;
        int before = removed.Calls;

        for (int i = 0; i < 30; i++)
        {
            Assert.NotEqual(removed.Name, await CallAsync(client));
        }

        Assert.Equal(before, removed.Calls);
    }

    [Fact]
    public async Task A_pod_that_fails_its_active_probe_gets_no_call_and_gets_calls_again_once_it_passes()
    {
        // The active probe is the standard gRPC health check (grpc.health.v1) against each pod.
        IEndpointProbe probe = EndpointProbes.FromDelegate(async (pod, ct) =>
        {
            using GrpcChannel channel = GrpcChannel.ForAddress($"http://{pod.EndPoint}");
            HealthCheckResponse response = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest(), cancellationToken: ct);
            return response.Status == HealthCheckResponse.Types.ServingStatus.Serving
                ? ProbeResult.Healthy()
                : ProbeResult.Unhealthy($"grpc.health.v1: {response.Status}");
        });
        (Greeter.GreeterClient client, IHeadlessService service) = Create(o =>
        {
            o.ActiveHealth.CustomProbe = probe;
            o.ActiveHealth.Interval = TimeSpan.FromMilliseconds(200);
            o.ActiveHealth.UnhealthyThreshold = 1;
            o.ActiveHealth.HealthyThreshold = 1;
        });
        await WarmUpAsync(client, _pods);

        GrpcPod sick = _pods[1];
        Task<EndpointSet> unhealthy = NextAsync(service, set => set.Available.Length == 2 && set.Available.All(p => !p.Address.Equals(sick.Address)));
        sick.Healthy = false;
        await unhealthy;
        int before = sick.Calls;
        for (int i = 0; i < 30; i++)
        {
            Assert.NotEqual(sick.Name, await CallAsync(client));
        }

        Assert.Equal(before, sick.Calls);

        Task<EndpointSet> healthy = NextAsync(service, set => set.Available.Length == 3);
        sick.Healthy = true;
        await healthy;
        await WarmUpAsync(client, [sick]);
    }

    [Fact]
    public async Task From_zero_pods_back_to_three_calls_succeed_again_on_the_same_channel()
    {
        (Greeter.GreeterClient client, IHeadlessService service) = Create();
        await WarmUpAsync(client, _pods);

        // Scaled to zero: the pods terminate and the name is gone (NXDOMAIN); a call fails at once.
        foreach (GrpcPod pod in _pods)
        {
            await pod.DisposeAsync();
        }

        _pods.Clear();
        _dns.RemoveName(Name);
        Task<EndpointSet> empty = NextAsync(service, set => set.Endpoints.Length == 0);
        await service.RefreshAsync();
        await empty;
        var failure = await Assert.ThrowsAsync<RpcException>(() => CallAsync(client));
        Assert.Equal(StatusCode.Unavailable, failure.StatusCode);

        // Scaled back to three new pods (new addresses, as in a cluster): the same client, on the same channel, reaches
        // all of them.
        foreach (IPAddress address in LoopbackAddressPool.Next(3))
        {
            _pods.Add(await GrpcPod.StartAsync($"greeter-new-{_pods.Count}", address, _port));
        }

        PublishInDns(_pods);
        Task<EndpointSet> back = NextAsync(service, set => set.Endpoints.Length == 3);
        await service.RefreshAsync();
        await back;
        await WarmUpAsync(client, _pods);
    }

    [Fact]
    public async Task The_channels_re_resolve_requests_become_early_refreshes()
    {
        // A pod that stops: its subchannel fails, the channel asks its resolver to refresh, the service refreshes early.
        // A TTL of an hour: the normal schedule would not refresh within the test's generous wait.
        PublishInDns(_pods, TimeSpan.FromHours(1));
        (Greeter.GreeterClient client, IHeadlessService service) = Create(o =>
        {
            o.MinRefreshInterval = TimeSpan.FromMilliseconds(100);
            o.MaxRefreshInterval = TimeSpan.FromHours(1);
        });
        await WarmUpAsync(client, _pods);
        GrpcPod stopped = _pods[0];
        PublishInDns(_pods.Skip(1), TimeSpan.FromHours(1));
        Task<EndpointSet> dropped = NextAsync(service, set => set.Endpoints.Length == 2);
        await stopped.DisposeAsync();
        _pods.Remove(stopped);

        // Nothing but the channel's own re-resolution asks for this refresh.
        await dropped;
        await WarmUpAsync(client, _pods);
    }

    [Fact]
    public async Task A_name_that_is_not_a_registered_key_gets_a_service_of_its_own()
    {
        var factory = new HeadlessResolverFactory(configure: o => o.DnsServers.Add(_dns.NameServer));
        var services = new ServiceCollection().AddSingleton<ResolverFactory>(factory).BuildServiceProvider();
        using GrpcChannel channel = GrpcChannel.ForAddress($"headless:///{Name}:{_port}", new GrpcChannelOptions
        {
            Credentials = ChannelCredentials.Insecure,
            ServiceProvider = services,
            ServiceConfig = new ServiceConfig { LoadBalancingConfigs = { new RoundRobinConfig() } },
        });

        await WarmUpAsync(new Greeter.GreeterClient(channel), _pods);
    }
}
