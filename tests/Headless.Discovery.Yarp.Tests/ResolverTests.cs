using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.ServiceDiscovery;

namespace Headless.Discovery.Yarp.Tests;

/// <summary>The resolver YARP gets from the container, over a fake service registered as the keyed service <c>backend</c>.</summary>
public sealed class ResolverTests : IAsyncLifetime
{
    private static readonly IPAddress A = IPAddress.Parse("127.0.0.11");
    private static readonly IPAddress B = IPAddress.Parse("127.0.0.12");
    private static readonly IPAddress C = IPAddress.Parse("127.0.0.13");

    private readonly FakeHeadlessService _backend = new(ServiceName.Parse("backend.shop.svc.cluster.local"));
    private ServiceProvider? _provider;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_provider is not null)
        {
            await _provider.DisposeAsync();
        }

        await _backend.DisposeAsync();
    }

    private IDestinationResolver Build(Action<HeadlessDestinationOptions>? configure = null)
    {
        var services = new ServiceCollection();
        services.AddKeyedSingleton<IHeadlessService>("backend", _backend);
        services.AddHeadlessService("backend", o => o.Name = "backend.shop.svc.cluster.local");
        services.AddReverseProxy().AddHeadlessDiscoveryDestinations(configure);
        _provider = services.BuildServiceProvider();
        return _provider.GetRequiredService<IDestinationResolver>();
    }

    private static async Task<ResolvedDestinationCollection> ResolveAsync(IDestinationResolver resolver, params (string Name, string Address)[] destinations) =>
        await resolver.ResolveDestinationsAsync(
            destinations.ToDictionary(d => d.Name, d => new DestinationConfig { Address = d.Address }, StringComparer.OrdinalIgnoreCase),
            CancellationToken.None).AsTask().WaitAsync(Generous);

    private static Dictionary<string, string> Addresses(ResolvedDestinationCollection resolved) =>
        resolved.Destinations.ToDictionary(d => d.Key, d => d.Value.Address, StringComparer.Ordinal);

    [Fact]
    public async Task A_pod_without_hostname_is_named_by_address_and_port_and_reached_at_the_services_port()
    {
        _backend.Publish([new PodEndpoint(A, 8080), new PodEndpoint(IPAddress.IPv6Loopback, 8080)]);
        IDestinationResolver resolver = Build();

        ResolvedDestinationCollection resolved = await ResolveAsync(resolver, ("backend", "http://backend/api/v1?x=1"));

        Assert.Equal(
            new Dictionary<string, string>
            {
                ["127.0.0.11:8080"] = "http://127.0.0.11:8080/api/v1?x=1",
                ["[::1]:8080"] = "http://[::1]:8080/api/v1?x=1",
            },
            Addresses(resolved));

        // The Host header names what the proxy was configured with, not an IP.
        Assert.All(resolved.Destinations.Values, d => Assert.Equal("backend", d.Host));
    }

    [Fact]
    public async Task A_pod_with_an_SRV_hostname_is_named_by_it_which_carries_its_ordinal()
    {
        var web0 = new PodEndpoint(A, 8080, "web-0.backend.shop.svc.cluster.local");
        var web1 = new PodEndpoint(B, 8081, "web-1.backend.shop.svc.cluster.local.");
        _backend.Publish([web1, web0]);
        IDestinationResolver resolver = Build();

        ResolvedDestinationCollection resolved = await ResolveAsync(resolver, ("backend", "https://backend/"));

        Assert.Equal(
            new Dictionary<string, string>
            {
                ["web-0.backend.shop.svc.cluster.local"] = "https://127.0.0.11:8080/",
                ["web-1.backend.shop.svc.cluster.local"] = "https://127.0.0.12:8081/",
            },
            Addresses(resolved));
        Assert.Equal(0, web0.Ordinal);
        Assert.Equal(1, web1.Ordinal);
    }

    [Fact]
    public async Task A_hostname_shared_by_two_addresses_of_a_dual_stack_pod_names_both_with_their_address()
    {
        _backend.Publish([
            new PodEndpoint(A, 8080, "web-0.backend.shop.svc.cluster.local"),
            new PodEndpoint(IPAddress.IPv6Loopback, 8080, "web-0.backend.shop.svc.cluster.local"),
            new PodEndpoint(B, 8080, "web-1.backend.shop.svc.cluster.local"),
        ]);
        IDestinationResolver resolver = Build();

        ResolvedDestinationCollection resolved = await ResolveAsync(resolver, ("backend", "http://backend/"));

        Assert.Equal(
            ["web-0.backend.shop.svc.cluster.local/127.0.0.11:8080", "web-0.backend.shop.svc.cluster.local/[::1]:8080", "web-1.backend.shop.svc.cluster.local"],
            resolved.Destinations.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Names_stay_the_same_across_snapshots_whatever_the_other_pods()
    {
        _backend.Publish([new PodEndpoint(B, 8080), new PodEndpoint(C, 8080, "web-2.backend.shop.svc.cluster.local")]);
        IDestinationResolver resolver = Build();
        ResolvedDestinationCollection before = await ResolveAsync(resolver, ("backend", "http://backend/"));

        // A pod sorting before both joins: no name shifts (names are not positions).
        _backend.Publish([new PodEndpoint(A, 8080), new PodEndpoint(B, 8080), new PodEndpoint(C, 8080, "web-2.backend.shop.svc.cluster.local")]);
        ResolvedDestinationCollection after = await ResolveAsync(resolver, ("backend", "http://backend/"));

        foreach ((string name, DestinationConfig config) in before.Destinations)
        {
            Assert.Equal(config, after.Destinations[name]);
        }

        Assert.Equal(3, after.Destinations.Count);
    }

    [Fact]
    public async Task An_explicit_port_in_the_address_wins_over_the_pods_and_the_health_address_is_rewritten_too()
    {
        _backend.Publish([new PodEndpoint(A, 8080)]);
        IDestinationResolver resolver = Build();
        var configured = new Dictionary<string, DestinationConfig>
        {
            ["backend"] = new()
            {
                Address = "http://backend:80/",
                Health = "http://backend:9000/healthz",
                Host = "backend.example",
                Metadata = new Dictionary<string, string> { ["zone"] = "a" },
            },
        };

        ResolvedDestinationCollection resolved = await resolver.ResolveDestinationsAsync(configured, CancellationToken.None).AsTask().WaitAsync(Generous);

        DestinationConfig pod = Assert.Single(resolved.Destinations).Value;
        Assert.Equal("http://127.0.0.11/", pod.Address);
        Assert.Equal("http://127.0.0.11:9000/healthz", pod.Health);
        Assert.Equal("backend.example", pod.Host);
        Assert.Equal("a", pod.Metadata!["zone"]);
    }

    [Fact]
    public async Task Destinations_that_name_no_registered_key_are_returned_as_they_are_without_a_token()
    {
        _backend.Publish([new PodEndpoint(A, 8080)]);
        IDestinationResolver resolver = Build();
        var configured = new Dictionary<string, DestinationConfig>
        {
            ["ip"] = new() { Address = "http://127.0.0.21:8080/" },
            ["other"] = new() { Address = "http://other-service/" },
            ["not-a-uri"] = new() { Address = "backend" },
        };

        ResolvedDestinationCollection resolved = await resolver.ResolveDestinationsAsync(configured, CancellationToken.None).AsTask().WaitAsync(Generous);

        Assert.Same(configured, resolved.Destinations);
        Assert.Null(resolved.ChangeToken);
    }

    [Fact]
    public async Task Beside_a_pass_through_destination_the_pods_are_added_and_it_is_kept_as_it_is()
    {
        _backend.Publish([new PodEndpoint(A, 8080), new PodEndpoint(B, 8080)]);
        IDestinationResolver resolver = Build();
        var outside = new DestinationConfig { Address = "http://127.0.0.21:8080/" };
        var configured = new Dictionary<string, DestinationConfig>
        {
            ["outside"] = outside,
            ["backend"] = new() { Address = "http://Backend/" },
        };

        ResolvedDestinationCollection resolved = await resolver.ResolveDestinationsAsync(configured, CancellationToken.None).AsTask().WaitAsync(Generous);

        Assert.Same(outside, resolved.Destinations["outside"]);
        Assert.Equal(["127.0.0.11:8080", "127.0.0.12:8080", "outside"], resolved.Destinations.Keys.Order(StringComparer.Ordinal));
        Assert.NotNull(resolved.ChangeToken);
    }

    [Fact]
    public async Task Two_destinations_naming_the_service_prefix_each_pod_with_the_configured_name()
    {
        _backend.Publish([new PodEndpoint(A, 8080)]);
        IDestinationResolver resolver = Build();

        ResolvedDestinationCollection resolved = await ResolveAsync(resolver, ("http", "http://backend/"), ("admin", "http://backend:9090/admin/"));

        Assert.Equal(
            new Dictionary<string, string>
            {
                ["http/127.0.0.11:8080"] = "http://127.0.0.11:8080/",
                ["admin/127.0.0.11:8080"] = "http://127.0.0.11:9090/admin/",
            },
            Addresses(resolved));
    }

    [Fact]
    public async Task The_change_token_fires_on_the_next_snapshot_and_the_next_token_waits_for_the_one_after()
    {
        _backend.Publish([new PodEndpoint(A, 8080)]);
        IDestinationResolver resolver = Build();
        ResolvedDestinationCollection first = await ResolveAsync(resolver, ("backend", "http://backend/"));
        IChangeToken token = first.ChangeToken!;
        Assert.True(token.ActiveChangeCallbacks);
        Assert.False(token.HasChanged);
        var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using IDisposable registration = token.RegisterChangeCallback(static s => ((TaskCompletionSource)s!).TrySetResult(), fired);

        _backend.Publish([new PodEndpoint(A, 8080), new PodEndpoint(B, 8080)]);

        await fired.Task.WaitAsync(Generous);
        Assert.True(token.HasChanged);
        ResolvedDestinationCollection second = await ResolveAsync(resolver, ("backend", "http://backend/"));
        Assert.Equal(2, second.Destinations.Count);
        Assert.False(second.ChangeToken!.HasChanged);

        // A health-only change is a new snapshot too.
        _backend.Publish([new EndpointStatus(new PodEndpoint(A, 8080), EndpointHealth.Unhealthy), new EndpointStatus(new PodEndpoint(B, 8080))]);
        Assert.True(second.ChangeToken.HasChanged);
    }

    [Fact]
    public async Task Only_available_pods_are_destinations_unless_YARP_is_left_to_judge_health()
    {
        EndpointStatus[] statuses =
        [
            new(new PodEndpoint(A, 8080), EndpointHealth.Healthy),
            new(new PodEndpoint(B, 8080), EndpointHealth.Unhealthy),
            new(new PodEndpoint(C, 8080), EndpointHealth.Healthy, isEjected: true),
        ];
        _backend.Publish(statuses);

        ResolvedDestinationCollection ours = await ResolveAsync(Build(), ("backend", "http://backend/"));
        Assert.Equal(["127.0.0.11:8080"], ours.Destinations.Keys);

        await _provider!.DisposeAsync();
        ResolvedDestinationCollection all = await ResolveAsync(Build(o => o.ApplyDiscoveryHealth = false), ("backend", "http://backend/"));
        Assert.Equal(["127.0.0.11:8080", "127.0.0.12:8080", "127.0.0.13:8080"], all.Destinations.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task With_no_pod_the_service_adds_no_destination_and_the_token_brings_the_pods_in()
    {
        _backend.Publish(Array.Empty<PodEndpoint>());
        IDestinationResolver resolver = Build();

        ResolvedDestinationCollection empty = await ResolveAsync(resolver, ("backend", "http://backend/"));
        Assert.Empty(empty.Destinations);

        _backend.Publish([new PodEndpoint(A, 8080)]);
        Assert.True(empty.ChangeToken!.HasChanged);
        Assert.Single((await ResolveAsync(resolver, ("backend", "http://backend/"))).Destinations);
    }

    [Fact]
    public void The_resolver_replaces_YARPs_default_and_registering_twice_keeps_one()
    {
        var services = new ServiceCollection();
        services.AddReverseProxy().AddHeadlessDiscoveryDestinations().AddHeadlessDiscoveryDestinations();

        ServiceDescriptor descriptor = Assert.Single(services, d => d.ServiceType == typeof(IDestinationResolver));
        using ServiceProvider provider = services.BuildServiceProvider();
        Assert.IsType<HeadlessDestinationResolver>(provider.GetRequiredService<IDestinationResolver>());
        Assert.NotNull(descriptor.ImplementationFactory);
    }

    [Theory]
    [InlineData("http://backend/", false)]
    [InlineData("http://backend:80/", true)]
    [InlineData("http://backend:8080", true)]
    [InlineData("http://user:secret@backend/x", false)]
    [InlineData("http://user:secret@backend:81/x", true)]
    [InlineData("http://backend/a:b", false)]
    [InlineData("http://backend?q=a:b", false)]
    public void An_explicit_port_is_told_from_none(string address, bool expected) =>
        Assert.Equal(expected, PodDestinations.HasExplicitPort(new Uri(address)));
}
