using System.Net;
using System.Text.Json;
using Headless.Discovery.Testing;

namespace Headless.Discovery.Examples.Tests;

/// <summary>The example app in-process against the embedded DNS server and real loopback HTTP pods.</summary>
public sealed class ExampleAppTests : IAsyncLifetime
{
    private const string Name = "backend.shop.svc.cluster.local";
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
        JsonElement pods = await PodsWhenAsync(s => s.Endpoints.Length == 3);

        Assert.Equal(["time", "service", "version", "stale", "endpoints", "added", "removed", "events"], pods.EnumerateObject().Select(p => p.Name));
        Assert.Equal(Name, pods.GetProperty("service").GetString());
        Assert.False(pods.GetProperty("stale").GetBoolean());
        Assert.Equal(RunningPodKeys(), Keys(pods));
        JsonElement first = pods.GetProperty("endpoints")[0];
        Assert.Equal(["address", "port", "hostname", "healthy"], first.EnumerateObject().Select(p => p.Name));

        await _pods.ScaleAsync(5);
        _pods.SyncToDns(_dns, Name, TimeSpan.FromSeconds(1));
        pods = await PodsWhenAsync(s => s.Endpoints.Length == 5);
        Assert.Equal(RunningPodKeys(), Keys(pods));

        await _pods.ScaleAsync(2);
        _pods.SyncToDns(_dns, Name, TimeSpan.FromSeconds(1));
        pods = await PodsWhenAsync(s => s.Endpoints.Length == 2);
        Assert.Equal(RunningPodKeys(), Keys(pods));
    }

    [Fact]
    public async Task Healthz_is_200_with_pods_and_503_without()
    {
        await PodsWhenAsync(s => s.Endpoints.Length == 3);
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
        await PodsWhenAsync(s => s.Endpoints.Length == 0);
        using HttpResponseMessage unavailable = await _client.GetAsync("/healthz").WaitAsync(Generous);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, unavailable.StatusCode);
        Assert.Contains("\"Unhealthy\"", await unavailable.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Call_goes_through_the_HttpClient_integration_and_names_the_pod_that_answered()
    {
        await PodsWhenAsync(s => s.Endpoints.Length == 3);
        var answered = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < 12; i++)
        {
            JsonElement call = await AppProbe.GetJsonAsync(_client, "/call?path=/hello");
            Assert.Equal(200, call.GetProperty("statusCode").GetInt32());
            string pod = call.GetProperty("pod").GetString()!;
            Assert.Contains(pod, RunningPodKeys());
            JsonElement body = JsonDocument.Parse(call.GetProperty("body").GetString()!).RootElement;
            Assert.Equal("/hello", body.GetProperty("path").GetString());
            Assert.Equal(pod, $"{body.GetProperty("address").GetString()}:{body.GetProperty("port").GetInt32()}");
            answered.Add(pod);
        }

        Assert.True(answered.Count >= 2, $"12 calls all went to {string.Join(", ", answered)}");
    }

    [Fact]
    public async Task Fanout_gets_every_pod_and_reports_the_failing_one()
    {
        await PodsWhenAsync(s => s.Endpoints.Length == 3);
        JsonElement all = await AppProbe.GetJsonAsync(_client, "/fanout?path=/");

        // The schema of `headless-discovery fanout --json`.
        Assert.Equal(["service", "mode", "succeeded", "failed", "results"], all.EnumerateObject().Select(p => p.Name));
        Assert.Equal(["address", "port", "status", "httpStatus", "latencyMs", "error"], all.GetProperty("results")[0].EnumerateObject().Select(p => p.Name));
        Assert.Equal(Name, all.GetProperty("service").GetString());
        Assert.Equal(3, all.GetProperty("succeeded").GetInt32());
        Assert.Equal(0, all.GetProperty("failed").GetInt32());
        Assert.All(all.GetProperty("results").EnumerateArray(), r => Assert.Equal(200, r.GetProperty("httpStatus").GetInt32()));
        Assert.Equal(RunningPodKeys(), all.GetProperty("results").EnumerateArray()
            .Select(r => $"{r.GetProperty("address").GetString()}:{r.GetProperty("port").GetInt32()}").Order(StringComparer.Ordinal));

        LoopbackPod sick = _pods.Pods[0];
        sick.Behavior = PodBehavior.Status(500);
        JsonElement one = await AppProbe.GetJsonAsync(_client, "/fanout?path=/");
        Assert.Equal(2, one.GetProperty("succeeded").GetInt32());
        Assert.Equal(1, one.GetProperty("failed").GetInt32());
        JsonElement failed = one.GetProperty("results").EnumerateArray().Single(r => r.GetProperty("status").GetString() != "ok");
        Assert.Equal("failed", failed.GetProperty("status").GetString());
        Assert.Equal(500, failed.GetProperty("httpStatus").GetInt32());
        Assert.Equal(sick.Address.ToString(), failed.GetProperty("address").GetString());
        Assert.Contains("HTTP 500", failed.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Call_with_no_pods_is_a_502_naming_the_service()
    {
        await _pods.ScaleAsync(0);
        _pods.SyncToDns(_dns, Name, TimeSpan.FromSeconds(1));
        await AppProbe.WaitForAsync(_app.Services, s => s.Endpoints.Length == 0);
        JsonElement call = await AppProbe.GetJsonAsync(_client, "/call?path=/", HttpStatusCode.BadGateway);
        Assert.Contains(Name, call.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Healthz_follows_active_probes_as_pods_fail_and_recover()
    {
        await using var app = new ExampleAppFactory(new Dictionary<string, string?>(ExampleAppFactory.Backend(Name, _dns.NameServer, _pods.Port))
        {
            ["HeadlessDiscovery:Services:backend:ActiveHealth:Probe"] = "http:/",
            ["HeadlessDiscovery:Services:backend:ActiveHealth:Interval"] = "00:00:00.200",
            ["HeadlessDiscovery:Services:backend:ActiveHealth:Timeout"] = "00:00:01",
            ["HeadlessDiscovery:Services:backend:ActiveHealth:HealthyThreshold"] = "1",
            ["HeadlessDiscovery:Services:backend:ActiveHealth:UnhealthyThreshold"] = "1",
        });
        using HttpClient client = app.CreateClient();
        await AppProbe.WaitForAsync(app.Services, s => s.Endpoints.Length == 3 && s.HealthyCount == 3);
        JsonElement healthy = await AppProbe.GetJsonAsync(client, "/healthz");
        Assert.Equal("Healthy", healthy.GetProperty("status").GetString());
        JsonElement pods = await AppProbe.GetJsonAsync(client, "/pods");
        Assert.All(pods.GetProperty("endpoints").EnumerateArray(), e => Assert.True(e.GetProperty("healthy").GetBoolean()));

        // One pod fails its probes: still enough usable pods, but Degraded (200).
        _pods.Pods[0].Behavior = PodBehavior.Status(500);
        await AppProbe.WaitForAsync(app.Services, s => s.UnhealthyCount == 1);
        JsonElement degraded = await AppProbe.GetJsonAsync(client, "/healthz");
        Assert.Equal("Degraded", degraded.GetProperty("status").GetString());
        Assert.Equal(2, degraded.GetProperty("checks").GetProperty("headless-service:backend").GetProperty("data").GetProperty("usable").GetInt32());

        // Every pod fails: Unhealthy (503), while DNS still lists all three.
        foreach (LoopbackPod pod in _pods.Pods)
        {
            pod.Behavior = PodBehavior.Status(500);
        }

        await AppProbe.WaitForAsync(app.Services, s => s.UnhealthyCount == 3);
        JsonElement unhealthy = await AppProbe.GetJsonAsync(client, "/healthz", HttpStatusCode.ServiceUnavailable);
        Assert.Equal("Unhealthy", unhealthy.GetProperty("status").GetString());

        // They recover.
        foreach (LoopbackPod pod in _pods.Pods)
        {
            pod.Behavior = PodBehavior.Healthy;
        }

        await AppProbe.WaitForAsync(app.Services, s => s.HealthyCount == 3);
        Assert.Equal("Healthy", (await AppProbe.GetJsonAsync(client, "/healthz")).GetProperty("status").GetString());
    }
}
