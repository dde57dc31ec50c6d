using System.Net;
using System.Text.Json;
using Headless.Discovery.Testing;

namespace Headless.Discovery.Examples.Tests;

/// <summary>The example app in-process against the embedded DNS server and real loopback HTTP pods.</summary>
public sealed class ExampleAppTests : IAsyncLifetime
{
    private const string Name = "backend.shop.svc.cluster.local";
    private static readonly TimeSpan Generous = AppProbe.Generous;
    private EmbeddedDnsServer _dns = null!;
    private LoopbackPodSet _pods = null!;
    private ExampleAppFactory _app = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _dns = await EmbeddedDnsServer.StartAsync();
        _pods = await LoopbackPodSet.StartAsync(3, 0, "backend");
        _pods.SyncToDns(_dns, Name, TimeSpan.FromSeconds(1));
        _app = new ExampleAppFactory(ExampleAppFactory.Backend(Name, _dns.NameServer, _pods.Port));
        _client = _app.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _app.DisposeAsync();
        await _pods.DisposeAsync();
        await _dns.DisposeAsync();
    }

    private async Task<JsonElement> PodsWhenAsync(Func<EndpointSet, bool> condition)
    {
        await AppProbe.WaitForAsync(_app.Services, condition);
        return await AppProbe.GetJsonAsync(_client, "/pods");
    }

    private static string[] Keys(JsonElement pods) => AppProbe.Keys(pods);

    private string[] RunningPodKeys() => _pods.Pods.Select(p => $"{p.Address}:{p.Port}").Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public async Task Pods_lists_the_pods_in_the_watch_json_schema_and_follows_scaling()
    {
        JsonElement pods = await PodsWhenAsync(s => s.Count == 3);

        Assert.Equal(["time", "service", "version", "stale", "endpoints", "added", "removed"], pods.EnumerateObject().Select(p => p.Name));
        Assert.Equal(Name, pods.GetProperty("service").GetString());
        Assert.False(pods.GetProperty("stale").GetBoolean());
        Assert.Equal(RunningPodKeys(), Keys(pods));
        JsonElement first = pods.GetProperty("endpoints")[0];
        Assert.Equal(["address", "port", "hostname", "healthy"], first.EnumerateObject().Select(p => p.Name));

        await _pods.ScaleAsync(5);
        _pods.SyncToDns(_dns, Name, TimeSpan.FromSeconds(1));
        pods = await PodsWhenAsync(s => s.Count == 5);
        Assert.Equal(RunningPodKeys(), Keys(pods));

        await _pods.ScaleAsync(2);
        _pods.SyncToDns(_dns, Name, TimeSpan.FromSeconds(1));
        pods = await PodsWhenAsync(s => s.Count == 2);
        Assert.Equal(RunningPodKeys(), Keys(pods));
    }

    [Fact]
    public async Task Healthz_is_200_with_pods_and_503_without()
    {
        await PodsWhenAsync(s => s.Count == 3);
        using (HttpResponseMessage ok = await _client.GetAsync("/healthz").WaitAsync(Generous))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            JsonElement body = JsonDocument.Parse(await ok.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("Healthy", body.GetProperty("status").GetString());
            Assert.Equal(3, body.GetProperty("checks").GetProperty("headless-service:backend").GetProperty("data").GetProperty("usable").GetInt32());
        }

        // Every pod goes away (NXDOMAIN, confirmed over the default 3 answers): unhealthy.
        await _pods.ScaleAsync(0);
        _pods.SyncToDns(_dns, Name, TimeSpan.FromSeconds(1));
        await PodsWhenAsync(s => s.Count == 0);
        using HttpResponseMessage unavailable = await _client.GetAsync("/healthz").WaitAsync(Generous);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, unavailable.StatusCode);
        Assert.Contains("\"Unhealthy\"", await unavailable.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
