using System.Net;
using System.Text.Json;
using Headless.Discovery.IntegrationTests;
using Headless.Discovery.Testing;

namespace Headless.Discovery.Examples.Tests;

/// <summary>
/// The example app pointed by configuration at a real dnsmasq (a separate process) serving real loopback HTTP pods:
/// <c>/pods</c> lists exactly those pods and follows their changes.
/// </summary>
[Collection(DnsmasqTests.Name)]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ExampleAppThroughDnsmasqTests(DnsmasqFixture dnsmasq) : IAsyncLifetime
{
    private const string Name = "backend.example." + DnsmasqFixture.Domain;
    private LoopbackPodSet _pods = null!;
    private ExampleAppFactory _app = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _pods = await LoopbackPodSet.StartAsync(3, 0, "web");
        await PublishAsync();
        _app = new ExampleAppFactory(ExampleAppFactory.Backend(Name, dnsmasq.NameServer, _pods.Port));
        _client = _app.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _app.DisposeAsync();
        await _pods.DisposeAsync();
    }

    private Task PublishAsync() => dnsmasq.SetHostsAsync(Name, _pods.Pods.Select(p => p.Address).ToArray());

    private string[] Running() => _pods.Pods.Select(p => $"{p.Address}:{p.Port}").Order(StringComparer.Ordinal).ToArray();

    private async Task<JsonElement> PodsWhenAsync(int count)
    {
        await AppProbe.WaitForAsync(_app.Services, s => s.Endpoints.Length == count && s.StaleSince is null);
        return await AppProbe.GetJsonAsync(_client, "/pods");
    }

    [Fact]
    public async Task Pods_lists_exactly_the_pods_dnsmasq_serves_and_follows_them()
    {
        JsonElement pods = await PodsWhenAsync(3);
        Assert.Equal(Name, pods.GetProperty("service").GetString());
        Assert.Equal(Running(), AppProbe.Keys(pods));

        await _pods.ScaleAsync(5);
        await PublishAsync();
        pods = await PodsWhenAsync(5);
        Assert.Equal(Running(), AppProbe.Keys(pods));

        // Replace a pod: it comes back on a new address.
        LoopbackPod replaced = _pods.Pods[1];
        await _pods.RemovePodAsync(replaced);
        await _pods.AddPodAsync();
        await PublishAsync();
        await AppProbe.WaitForAsync(_app.Services, s => s.Endpoints.Length == 5 && s.Endpoints.All(e => !e.Address.Equals(replaced.Address)));
        pods = await AppProbe.GetJsonAsync(_client, "/pods");
        Assert.Equal(Running(), AppProbe.Keys(pods));
        Assert.DoesNotContain($"{replaced.Address}:{replaced.Port}", AppProbe.Keys(pods));

        await _pods.ScaleAsync(2);
        await PublishAsync();
        pods = await PodsWhenAsync(2);
        Assert.Equal(Running(), AppProbe.Keys(pods));

        using HttpResponseMessage health = await _client.GetAsync("/healthz").WaitAsync(Generous);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }
}
