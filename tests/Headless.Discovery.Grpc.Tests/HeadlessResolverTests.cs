using System.Net;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Headless.Discovery.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Headless.Discovery.Grpc.Tests;

/// <summary>The resolver on its own: what it hands the channel for each published snapshot.</summary>
public sealed class HeadlessResolverTests
{
    private static PodEndpoint StatefulPod(int ordinal, int port = 5000) =>
        new(IPAddress.Parse($"10.1.0.{ordinal + 1}"), port, $"db-{ordinal}.db.default.svc.cluster.local");

    private static (HeadlessResolver Resolver, List<ResolverResult> Results) Start(FakeHeadlessService service)
    {
        var resolver = new HeadlessResolver(service, owned: null, defaultPort: 80, NullLogger.Instance);
        var results = new List<ResolverResult>();
        resolver.Start(results.Add);
        return (resolver, results);
    }

    [Fact]
    public void Each_address_carries_the_pods_hostname_and_ordinal_and_only_available_pods_are_handed_over()
    {
        var service = new FakeHeadlessService();
        (HeadlessResolver resolver, List<ResolverResult> results) = Start(service);
        Assert.Empty(results);

        service.Publish(
        [
            new EndpointStatus(StatefulPod(0), EndpointHealth.Healthy, false),
            new EndpointStatus(StatefulPod(1), EndpointHealth.Unhealthy, false),
            new EndpointStatus(StatefulPod(2), EndpointHealth.Healthy, true),
            new EndpointStatus(StatefulPod(3), EndpointHealth.Unknown, false),
        ]);

        BalancerAddress[] addresses = [.. Assert.Single(results).Addresses!];
        Assert.Equal(["10.1.0.1:5000", "10.1.0.4:5000"], addresses.Select(a => $"{a.EndPoint.Host}:{a.EndPoint.Port}"));
        Assert.True(addresses[1].Attributes.TryGetValue(HeadlessBalancerAttributes.Hostname, out string? hostname));
        Assert.Equal("db-3.db.default.svc.cluster.local", hostname);
        Assert.True(addresses[1].Attributes.TryGetValue(HeadlessBalancerAttributes.Ordinal, out int ordinal));
        Assert.Equal(3, ordinal);
        resolver.Dispose();
    }

    [Fact]
    public void A_pod_without_a_port_takes_the_channels_default_and_a_pod_without_a_hostname_has_no_identity_attributes()
    {
        var service = new FakeHeadlessService(new PodEndpoint(IPAddress.Parse("10.1.0.9"), 0));
        (HeadlessResolver resolver, List<ResolverResult> results) = Start(service);

        BalancerAddress address = Assert.Single(Assert.Single(results).Addresses!);
        Assert.Equal(80, address.EndPoint.Port);
        Assert.False(address.Attributes.TryGetValue(HeadlessBalancerAttributes.Hostname, out _));
        Assert.False(address.Attributes.TryGetValue(HeadlessBalancerAttributes.Ordinal, out _));
        resolver.Dispose();
    }

    [Fact]
    public void The_channels_refresh_asks_the_service_for_an_early_refresh_and_a_disposed_resolver_reports_nothing()
    {
        var service = new FakeHeadlessService(StatefulPod(0));
        (HeadlessResolver resolver, List<ResolverResult> results) = Start(service);
        resolver.Refresh();
        Assert.Equal(1, service.RefreshRequests);

        resolver.Dispose();
        service.Publish([StatefulPod(0), StatefulPod(1)]);
        Assert.Single(results);
    }

    [Fact]
    public void An_address_without_a_service_fails_naming_the_forms_it_takes()
    {
        var services = new ServiceCollection()
            .AddSingleton<ResolverFactory>(new HeadlessResolverFactory())
            .BuildServiceProvider();
        var ex = Assert.ThrowsAny<Exception>(() => GrpcChannel.ForAddress("headless:///", new GrpcChannelOptions { Credentials = global::Grpc.Core.ChannelCredentials.Insecure, ServiceProvider = services }));
        Assert.Contains("headless:///<key>", ex.Message, StringComparison.Ordinal);
    }

}
