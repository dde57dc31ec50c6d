using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Model;

namespace Headless.Discovery.Yarp.Tests;

/// <summary>
/// A real YARP proxy in process: Kestrel on 127.0.0.1 and a free port, one catch-all route to the cluster
/// <see cref="ClusterId"/> (round robin, so a run of requests reaches every destination), configuration from memory, and
/// the headless destination resolver.
/// </summary>
internal sealed class ProxyHost : IAsyncDisposable
{
    public const string ClusterId = "backend-cluster";

    private readonly WebApplication _app;
    private readonly HttpClient _client;

    private ProxyHost(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
        _client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = address };
    }

    public Uri Address { get; }

    public IServiceProvider Services => _app.Services;

    public ClusterWatcher Watcher => _app.Services.GetRequiredService<ClusterWatcher>();

    public static async Task<ProxyHost> StartAsync(
        IReadOnlyDictionary<string, DestinationConfig> destinations,
        Action<IServiceCollection> services,
        Action<Headless.Discovery.Yarp.HeadlessDestinationOptions>? options = null)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        services(builder.Services);
        builder.Services.AddSingleton<ClusterWatcher>();
        builder.Services.AddSingleton<IClusterChangeListener>(static sp => sp.GetRequiredService<ClusterWatcher>());
        builder.Services.AddReverseProxy()
            .LoadFromMemory(
                [new RouteConfig { RouteId = "all", ClusterId = ClusterId, Match = new RouteMatch { Path = "{**catch-all}" } }],
                [new ClusterConfig { ClusterId = ClusterId, LoadBalancingPolicy = "RoundRobin", Destinations = destinations }])
            .AddHeadlessDiscoveryDestinations(options);
        WebApplication app = builder.Build();
        app.MapReverseProxy();
        try
        {
            await app.StartAsync().WaitAsync(Generous);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new ProxyHost(app, new Uri(address));
    }

    /// <summary>The destinations YARP balances over now.</summary>
    public IReadOnlyList<DestinationState> Destinations()
    {
        Assert.True(Services.GetRequiredService<IProxyStateLookup>().TryGetCluster(ClusterId, out ClusterState? cluster));
        return cluster.DestinationsState.AllDestinations;
    }

    /// <summary>Waits until YARP balances over exactly the destinations at <paramref name="addresses"/>.</summary>
    public Task WaitForAddressesAsync(IEnumerable<string> addresses)
    {
        string[] wanted = [.. addresses.Order(StringComparer.Ordinal)];
        return Watcher.WaitForAsync(
            Services.GetRequiredService<IProxyStateLookup>(),
            ClusterId,
            c => c.DestinationsState.AllDestinations.Select(d => d.Model.Config.Address).Order(StringComparer.Ordinal).SequenceEqual(wanted));
    }

    /// <summary>Sends one GET through the proxy and returns the name of the pod that answered.</summary>
    public async Task<string> GetPodAsync(string path = "/hello")
    {
        using HttpResponseMessage response = await _client.GetAsync(new Uri(path, UriKind.Relative)).WaitAsync(Generous);
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("pod").GetString()!;
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
