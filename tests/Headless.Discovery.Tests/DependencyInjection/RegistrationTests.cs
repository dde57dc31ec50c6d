using System.Net;
using Headless.Discovery.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using static Headless.Discovery.Tests.DependencyInjection.DiTestHost;

namespace Headless.Discovery.Tests.DependencyInjection;

public sealed class RegistrationTests
{
    private sealed class Consumer([FromKeyedServices("backend")] IHeadlessService backend, [FromKeyedServices("cache")] IHeadlessService cache)
    {
        public IHeadlessService Backend { get; } = backend;

        public IHeadlessService Cache { get; } = cache;
    }

    private static ServiceProvider TwoServices(Action<IServiceCollection>? extra = null)
    {
        var services = new ServiceCollection();
        services.AddHeadlessService("backend", o => o.Name = "web.shop.svc.cluster.local");
        services.AddHeadlessService("cache", o => o.Name = "redis.shop.svc.cluster.local");
        services.AddSingleton<Consumer>();
        extra?.Invoke(services);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    [Fact]
    public void Keyed_injection_and_the_registry_hand_out_the_same_instance_per_key()
    {
        using ServiceProvider provider = TwoServices();
        var consumer = provider.GetRequiredService<Consumer>();
        var registry = provider.GetRequiredService<IHeadlessServiceRegistry>();

        Assert.Same(registry.GetService("backend"), consumer.Backend);
        Assert.Same(registry.GetService("cache"), consumer.Cache);
        Assert.NotSame(consumer.Backend, consumer.Cache);
        Assert.Equal("web.shop.svc.cluster.local", consumer.Backend.Name.Value);
        Assert.Equal(["backend", "cache"], registry.Keys);
    }

    [Fact]
    public void An_unknown_key_names_the_registered_ones()
    {
        using ServiceProvider provider = TwoServices();
        var registry = provider.GetRequiredService<IHeadlessServiceRegistry>();

        var ex = Assert.Throws<KeyNotFoundException>(() => registry.GetService("db"));
        Assert.Contains("'db'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("backend, cache", ex.Message, StringComparison.Ordinal);
        Assert.Null(provider.GetKeyedService<IHeadlessService>("db"));
    }

    [Fact]
    public void Registering_twice_adds_nothing_twice()
    {
        var once = new ServiceCollection();
        once.AddHeadlessDiscovery();
        once.AddHeadlessService("backend");

        var twice = new ServiceCollection();
        twice.AddHeadlessDiscovery();
        twice.AddHeadlessDiscovery();
        twice.AddHeadlessService("backend");
        twice.AddHeadlessService("backend");
        twice.AddHeadlessDiscovery();

        Assert.Equal(once.Count, twice.Count);
        Assert.Single(twice, d => d.ServiceType == typeof(IHostedService));
        Assert.Single(twice, d => d.ServiceType == typeof(IHeadlessServiceRegistry));
        Assert.Single(twice, d => d.ServiceType == typeof(IHeadlessService) && Equals(d.ServiceKey, "backend"));
    }

    [Fact]
    public void An_existing_TimeProvider_is_kept()
    {
        var fake = new FakeTimeProvider(new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero));
        using ServiceProvider provider = TwoServices(s => s.AddSingleton<TimeProvider>(fake));

        Assert.Same(fake, provider.GetRequiredService<TimeProvider>());
        Assert.Equal(fake.GetUtcNow(), provider.GetRequiredKeyedService<IHeadlessService>("backend").Current.ResolvedAt);
    }

    [Fact]
    public void Without_a_TimeProvider_the_system_clock_is_registered()
    {
        using ServiceProvider provider = TwoServices();
        Assert.Same(TimeProvider.System, provider.GetRequiredService<TimeProvider>());
    }

    [Fact]
    public async Task A_keyed_resolver_replaces_dns_for_its_key()
    {
        var resolver = new ScriptedResolver([new PodEndpoint(IPAddress.Parse("10.9.0.1"), 80)]);
        await using ServiceProvider provider = TwoServices(s => s.AddKeyedSingleton<IEndpointResolver>("backend", resolver));

        EndpointSet set = await provider.GetRequiredKeyedService<IHeadlessService>("backend").WaitForEndpointsAsync(1).AsTask().WaitAsync(Generous);
        Assert.Equal("10.9.0.1:80", Assert.Single(set.Endpoints).Key);
    }

    [Fact]
    public async Task Disposing_the_container_disposes_the_services()
    {
        ServiceProvider provider = TwoServices();
        IHeadlessService backend = provider.GetRequiredKeyedService<IHeadlessService>("backend");
        await provider.DisposeAsync();

        Assert.Throws<ObjectDisposedException>(backend.Start);
        Assert.Throws<ObjectDisposedException>(() => provider.GetRequiredService<IHeadlessServiceRegistry>());
    }
}
