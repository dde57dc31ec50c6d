using System.Net;
using Headless.Discovery.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.ServiceDiscovery;

namespace Headless.Discovery.ServiceDiscovery.Tests;

/// <summary>
/// Our change token fires on the thread pool whenever the available pods change, so service discovery's re-resolution
/// always races whatever the application does at that moment: resolve again, or shut down.
/// </summary>
public sealed class ChangeRaceTests
{
    private static readonly ServiceName Service = ServiceName.Parse("backend.shop.svc.cluster.local");

    /// <summary>
    /// Many short races: each one a fresh container whose pods change while the application resolves again and then
    /// disposes it. A deadlock in either step (service discovery 10.0.0 disposed its change registration under the lock
    /// the registration's callback takes) stops the race for good, so each race gets the generous timeout.
    /// </summary>
    [Fact]
    public async Task A_change_racing_a_resolution_and_the_shutdown_never_hangs_service_discovery()
    {
        const int Races = 10_000;
        for (int race = 0; race < Races; race++)
        {
            var backend = new FakeHeadlessService(Service);
            backend.Publish(Pods(1, 2));
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
            backend.Publish(Pods(1, 2, 3));
            Task resolveThenDispose = Task.Run(async () =>
            {
                ServiceEndpointSource next = await resolver.GetEndpointsAsync("http://backend", CancellationToken.None).ConfigureAwait(false);
                Assert.Equal(3, next.Endpoints.Count);
                backend.Publish(Pods(4));
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

    private static IEnumerable<PodEndpoint> Pods(params int[] lastOctets) =>
        lastOctets.Select(o => new PodEndpoint(IPAddress.Parse("10.0.0." + o), 8080));

    /// <summary>A registry holding one hand-driven service, in place of the one <c>AddHeadlessService</c> fills.</summary>
    private sealed class OneServiceRegistry(string key, IHeadlessService service) : IHeadlessServiceRegistry
    {
        public IReadOnlyList<string> Keys { get; } = [key];

        public IHeadlessService GetService(string name) =>
            string.Equals(name, key, StringComparison.OrdinalIgnoreCase) ? service : throw new KeyNotFoundException(name);
    }
}
