using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using System.Collections.Immutable;
using System.Net;

namespace Headless.Discovery.Benchmarks;

/// <summary>Shared test data: pod addresses, endpoints and snapshots of a given size.</summary>
internal static class Fixtures
{
    /// <summary>
    /// Microsoft.Extensions.ServiceDiscovery over its configuration provider with <paramref name="endpointCount"/>
    /// endpoints for <c>http://web</c>: the peer the selection and snapshot suites compare against.
    /// </summary>
    public static ServiceProvider MeSdProvider(int endpointCount)
    {
        var settings = new Dictionary<string, string?>();
        for (int i = 0; i < endpointCount; i++)
        {
            settings[$"Services:web:http:{i}"] = $"{Address(i)}:{Port}";
        }

        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton(configuration);
        services.AddLogging();
        services.AddServiceDiscoveryCore();
        services.AddConfigurationServiceEndpointProvider();
        return services.BuildServiceProvider();
    }

    public const string ServiceHost = "web.default.svc.cluster.local";
    public const int Port = 8080;

    public static readonly ServiceName Service = ServiceName.Parse(ServiceHost);

    /// <summary>The <paramref name="index"/>-th pod address in 10.0.0.0/8, distinct for every index below 2^24.</summary>
    public static IPAddress Address(int index) =>
        new(new byte[] { 10, (byte)(index >> 16), (byte)(index >> 8), (byte)index });

    public static IPAddress[] Addresses(int count, int offset = 0) =>
        Enumerable.Range(offset, count).Select(Address).ToArray();

    public static PodEndpoint[] Endpoints(int count, int offset = 0) =>
        Addresses(count, offset).Select(a => new PodEndpoint(a, Port)).ToArray();

    /// <summary>StatefulSet-style pods as SRV answers give them: hostname <c>web-&lt;n&gt;.web.default.svc.cluster.local</c>.</summary>
    public static PodEndpoint[] StatefulEndpoints(int count) =>
        Enumerable.Range(0, count).Select(i => new PodEndpoint(Address(i), Port, $"web-{i}.{ServiceHost}")).ToArray();

    public static EndpointSet Set(IEnumerable<PodEndpoint> endpoints, long version = 1) =>
        EndpointSet.Create(Service, endpoints, version, DateTimeOffset.UnixEpoch, TimeSpan.FromSeconds(5));

    /// <summary>Options that keep the background loop quiet while a benchmark runs (refreshes at most every 30 s).</summary>
    public static HeadlessServiceOptions QuietOptions() => new()
    {
        MinRefreshInterval = TimeSpan.FromSeconds(30),
        MaxRefreshInterval = TimeSpan.FromSeconds(30),
    };
}
