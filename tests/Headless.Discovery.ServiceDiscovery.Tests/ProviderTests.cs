using System.Collections.Immutable;
using System.Net;
using Headless.Discovery.Testing;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Microsoft.Extensions.ServiceDiscovery;

namespace Headless.Discovery.ServiceDiscovery.Tests;

/// <summary>The provider and factory over a hand-driven service: on their own, and under service discovery's resolver.</summary>
public sealed class ProviderTests
{
    private static readonly ServiceName Service = ServiceName.Parse("backend.shop.svc.cluster.local");

    private static EndpointSet Set(long version, params int[] lastOctets) =>
        EndpointSet.Create(Service, lastOctets.Select(o => new PodEndpoint(IPAddress.Parse("10.0.0." + o), 8080)), version, DateTimeOffset.UnixEpoch, TimeSpan.FromSeconds(5));

    /// <summary>A service that has published <paramref name="first"/>.</summary>
    private static FakeHeadlessService Published(EndpointSet first)
    {
        var service = new FakeHeadlessService(Service);
        service.Publish(first);
        return service;
    }

    private static HeadlessServiceEndpointProvider Provider(FakeHeadlessService service, bool hostNames = false) =>
        new("backend", service, new HeadlessServiceEndpointProviderOptions { ApplyHostNameMetadata = hostNames }, NullLogger.Instance);

    [Fact]
    public async Task Fires_only_when_the_available_pods_change_and_only_once()
    {
        var service = Published(Set(1, 1, 2));
        HeadlessServiceEndpointProvider provider = Provider(service);
        var builder = new Builder();

        await provider.PopulateAsync(builder, CancellationToken.None);
        Assert.Equal([new IPEndPoint(IPAddress.Parse("10.0.0.1"), 8080), new IPEndPoint(IPAddress.Parse("10.0.0.2"), 8080)], builder.Endpoints.Select(e => e.EndPoint));
        IChangeToken token = Assert.Single(builder.Tokens);
        int callbacks = 0;
        token.RegisterChangeCallback(_ => Interlocked.Increment(ref callbacks), null);

        service.Publish(Set(2, 1, 2)); // same pods (e.g. only staleness changed): quiet
        Assert.False(token.HasChanged);

        service.Publish(Set(3, 1, 2, 3));
        Assert.True(token.HasChanged); // at once, on the publishing thread; callbacks run on the thread pool
        service.Publish(Set(4, 1));
        Assert.True(token.HasChanged);

        // The next population arms a new token for the latest set.
        var again = new Builder();
        await provider.PopulateAsync(again, CancellationToken.None);
        Assert.Equal([new IPEndPoint(IPAddress.Parse("10.0.0.1"), 8080)], again.Endpoints.Select(e => e.EndPoint));
        Assert.False(Assert.Single(again.Tokens).HasChanged);
        Assert.InRange(Volatile.Read(ref callbacks), 0, 1);
    }

    [Fact]
    public async Task Adds_nothing_after_an_earlier_provider_and_arms_no_token()
    {
        var service = Published(Set(1, 1));
        var builder = new Builder();
        builder.Endpoints.Add(ServiceEndpoint.Create(new DnsEndPoint("override", 80)));

        await Provider(service).PopulateAsync(builder, CancellationToken.None);

        Assert.Single(builder.Endpoints);
        Assert.Empty(builder.Tokens);
    }

    [Fact]
    public async Task Host_name_feature_only_for_pods_with_a_hostname_and_only_when_asked_for()
    {
        var pods = new[] { new PodEndpoint(IPAddress.Parse("10.0.0.1"), 80, "web-0.web.shop.svc.cluster.local"), new PodEndpoint(IPAddress.Parse("10.0.0.2"), 80) };
        var service = Published(EndpointSet.Create(Service, pods, 1, DateTimeOffset.UnixEpoch, TimeSpan.FromSeconds(5)));

        var with = new Builder();
        await Provider(service, hostNames: true).PopulateAsync(with, CancellationToken.None);
        Assert.Equal(["web-0.web.shop.svc.cluster.local", null], with.Endpoints.Select(e => e.Features.Get<IHostNameFeature>()?.HostName));

        var without = new Builder();
        await Provider(service).PopulateAsync(without, CancellationToken.None);
        Assert.All(without.Endpoints, e => Assert.Null(e.Features.Get<IHostNameFeature>()));
    }

    [Fact]
    public async Task Disposing_only_unsubscribes_and_never_disposes_the_service()
    {
        FakeHeadlessService service = Published(Set(1, 1));
        HeadlessServiceEndpointProvider kept = Provider(service), disposed = Provider(service);
        Builder keptBuilder = new(), disposedBuilder = new();
        await kept.PopulateAsync(keptBuilder, CancellationToken.None);
        await disposed.PopulateAsync(disposedBuilder, CancellationToken.None);

        await disposed.DisposeAsync();
        await disposed.DisposeAsync();
        service.Publish(Set(2, 1, 2));

        // The provider still subscribed hears the change; the disposed one no longer does.
        Assert.True(Assert.Single(keptBuilder.Tokens).HasChanged);
        Assert.False(Assert.Single(disposedBuilder.Tokens).HasChanged);
        Assert.False(service.Stopping.IsCancellationRequested);
    }

    [Fact]
    public void The_factory_claims_registered_keys_ignoring_case_but_not_named_endpoints_or_ambiguous_names()
    {
        var services = new ServiceCollection();
        services.AddHeadlessService("backend", o => o.Name = "backend.shop.svc.cluster.local");
        services.AddHeadlessService("Cache", o => o.Name = "cache.shop.svc.cluster.local");
        services.AddHeadlessService("Dup", o => o.Name = "dup.shop.svc.cluster.local");
        services.AddHeadlessService("DUP", o => o.Name = "dup.shop.svc.cluster.local");
        services.AddHeadlessServiceEndpointProvider();
        services.AddHeadlessServiceEndpointProvider(); // idempotent
        using ServiceProvider sp = services.BuildServiceProvider();
        var factory = Assert.IsType<HeadlessServiceEndpointProviderFactory>(Assert.Single(sp.GetServices<IServiceEndpointProviderFactory>()));

        bool Claims(string input)
        {
            Assert.True(ServiceEndpointQuery.TryParse(input, out ServiceEndpointQuery? query));
            bool claimed = factory.TryCreateProvider(query, out IServiceEndpointProvider? provider);
            Assert.Equal(claimed, provider is not null);
            return claimed;
        }

        Assert.True(Claims("http://backend"));
        Assert.True(Claims("https+http://backend"));
        Assert.True(Claims("http://Cache"));         // the URI host arrives lower-cased: 'cache' -> key 'Cache'
        Assert.False(Claims("http://dup"));          // 'Dup' or 'DUP'? neither
        Assert.False(Claims("http://_grpc.backend")); // a named endpoint
        Assert.False(Claims("http://other"));
        Assert.Equal("Cache", factory.FindKey("cache"));
        Assert.Equal("DUP", factory.FindKey("DUP"));
    }

    /// <summary>
    /// Our token fires on the thread pool whenever the available pods change, so service discovery's re-resolution races
    /// whatever the application does at that moment. Many short races, each a fresh container whose pods change while the
    /// application resolves again and then shuts down: service discovery 10.0.0 disposed its change registration under
    /// the lock that registration's callback takes, and deadlocked within about a thousand races.
    /// </summary>
    [Fact]
    public async Task A_change_racing_a_resolution_and_the_shutdown_never_hangs_service_discovery()
    {
        const int Races = 10_000;
        for (int race = 0; race < Races; race++)
        {
            FakeHeadlessService backend = Published(Set(1, 1, 2));
            var services = new ServiceCollection();
            services.AddSingleton<IHeadlessServiceRegistry>(new OneServiceRegistry("backend", backend));
            services.AddServiceDiscoveryCore();
            services.AddHeadlessServiceEndpointProvider();
            ServiceProvider sp = services.BuildServiceProvider();
            var resolver = sp.GetRequiredService<ServiceEndpointResolver>();
            ServiceEndpointSource first = await resolver.GetEndpointsAsync("http://backend", CancellationToken.None).AsTask().WaitAsync(Generous);
            Assert.Equal(2, first.Endpoints.Count);

            // The token fires at once (HasChanged) and runs service discovery's callback on the thread pool, while the
            // application resolves (which sees HasChanged and re-resolves) and then shuts down.
            backend.Publish(Set(2, 1, 2, 3));
            Task resolveThenDispose = Task.Run(async () =>
            {
                ServiceEndpointSource next = await resolver.GetEndpointsAsync("http://backend", CancellationToken.None).ConfigureAwait(false);
                Assert.Equal(3, next.Endpoints.Count);
                backend.Publish(Set(3, 4));
                Thread.SpinWait(race % 64); // sweeps the shutdown across the moment the callback starts
                await sp.DisposeAsync().ConfigureAwait(false);
            });

            try
            {
                await resolveThenDispose.WaitAsync(Generous);
            }
            catch (TimeoutException)
            {
                Assert.Fail($"Race {race} of {Races}: resolving or shutting down did not finish within {Generous}; service discovery deadlocked.");
            }
        }
    }

    /// <summary>A registry holding one hand-driven service, in place of the one <c>AddHeadlessService</c> fills.</summary>
    private sealed class OneServiceRegistry(string key, IHeadlessService service) : IHeadlessServiceRegistry
    {
        public IReadOnlyList<string> Keys { get; } = [key];

        public IHeadlessService GetService(string name) =>
            string.Equals(name, key, StringComparison.OrdinalIgnoreCase) ? service : throw new KeyNotFoundException(name);
    }

    private sealed class Builder : IServiceEndpointBuilder
    {
        public List<IChangeToken> Tokens { get; } = [];

        public IList<ServiceEndpoint> Endpoints { get; } = [];

        public IFeatureCollection Features { get; } = new FeatureCollection();

        public void AddChangeToken(IChangeToken changeToken) => Tokens.Add(changeToken);
    }
}
