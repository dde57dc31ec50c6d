using System.Net;
using Microsoft.Extensions.DependencyInjection;

namespace Headless.Discovery.Http.Tests;

/// <summary>What the handler sends below it: URI and Host header, with a capturing primary handler (no network).</summary>
public sealed class RewriteTests
{
    private sealed class Capture : HttpMessageHandler
    {
        public List<(Uri Uri, string? Host)> Seen { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Seen.Add((request.RequestUri!, request.Headers.Host));
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK));
        }
    }

    private static async Task<List<(Uri Uri, string? Host)>> SendAsync(string uri, Action<HeadlessServiceHttpOptions>? options = null, params PodEndpoint[] pods)
    {
        var capture = new Capture();
        var services = new ServiceCollection();
        services.AddKeyedSingleton<IEndpointResolver>("backend", new ScriptedResolver(pods));
        services.AddHeadlessService("backend", o => o.Name = "web.shop.svc.cluster.local");
        services.AddHttpClient("c").ConfigurePrimaryHttpMessageHandler(() => capture).AddHeadlessServiceEndpoints("backend", options);
        await using ServiceProvider provider = services.BuildServiceProvider();
        HttpClient client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("c");
        using HttpResponseMessage response = await client.GetAsync(new Uri(uri)).WaitAsync(TimeSpan.FromSeconds(20));
        return capture.Seen;
    }

    [Fact]
    public async Task Scheme_path_and_query_are_kept_host_and_port_become_the_pods()
    {
        var seen = await SendAsync("https://backend/a/b?c=d", null, new PodEndpoint(IPAddress.Parse("10.0.0.7"), 8443));
        Assert.Equal(new Uri("https://10.0.0.7:8443/a/b?c=d"), seen[0].Uri);
        Assert.Equal("backend", seen[0].Host);
    }

    [Fact]
    public async Task An_explicit_port_in_the_request_is_kept_in_the_host_header_and_a_portless_pod_keeps_it()
    {
        var seen = await SendAsync("http://BACKEND:9000/", null, new PodEndpoint(IPAddress.Parse("fd00::5"), 0));
        Assert.Equal(new Uri("http://[fd00::5]:9000/"), seen[0].Uri);
        Assert.Equal("backend:9000", seen[0].Host);
    }

    [Fact]
    public async Task The_host_header_can_be_the_pod()
    {
        var seen = await SendAsync("http://svc/", o =>
        {
            o.ServiceHost = "svc";
            o.PreserveHostHeader = false;
        }, new PodEndpoint(IPAddress.Parse("10.0.0.7"), 80));
        Assert.Equal(new Uri("http://10.0.0.7/"), seen[0].Uri);
        Assert.Null(seen[0].Host);
    }
}
