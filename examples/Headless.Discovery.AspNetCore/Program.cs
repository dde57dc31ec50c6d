using Headless.Discovery;
using Headless.Discovery.Cli;
using Headless.Discovery.Examples.AspNetCore;
using Headless.Discovery.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;

WebApplicationBuilder builder = WebApplication.CreateBuilder(args);

// No backend configured: play a cluster on loopback (embedded DNS + 3 HTTP pods), like `headless-discovery demo`.
// In Kubernetes: HeadlessDiscovery__Services__backend__Name=headless-nginx (and Port), nothing else. The container
// image is built without this (-p:LocalCluster=false): no test DNS server in production, and a missing Name fails
// startup naming the key.
#if LOCAL_CLUSTER
if (string.IsNullOrWhiteSpace(builder.Configuration["HeadlessDiscovery:Services:backend:Name"]))
{
    LocalCluster cluster = await LocalCluster.StartAsync();
    builder.Configuration.AddInMemoryCollection(cluster.Configuration("backend"));
    builder.Services.AddSingleton(cluster);
    Console.WriteLine($"No HeadlessDiscovery:Services:backend:Name configured: serving {LocalCluster.ServiceName} from an embedded DNS server on {cluster.Dns.NameServer} with {cluster.Pods.Pods.Count} loopback pods.");
}
#endif

builder.Services.AddHeadlessService("backend");
builder.Services.AddHealthChecks().AddHeadlessServiceCheck("backend", minHealthy: 1);

// http://backend/... goes to a pod picked by the service's selector; 5xx and errors feed passive health.
builder.Services.AddHttpClient("backend", c =>
{
    c.BaseAddress = new Uri("http://backend/");
    c.Timeout = TimeSpan.FromSeconds(5);
}).AddHeadlessServiceEndpoints("backend");
builder.Services.AddHttpClient("pods", c => c.Timeout = TimeSpan.FromSeconds(5));

WebApplication app = builder.Build();

// The current snapshot, in the schema of one `headless-discovery watch --json` line.
app.MapGet("/pods", ([FromKeyedServices("backend")] IHeadlessService backend, TimeProvider time) =>
    Results.Text(JsonOutput.WatchLine(time.GetUtcNow(), EndpointSetChange.Compute(null, backend.Current)), "application/json"));

// One request through the HttpClient integration: which pod answered, and what it said.
app.MapGet("/call", async (string? path, IHttpClientFactory clients, CancellationToken cancellationToken) =>
{
    HttpClient client = clients.CreateClient("backend");
    try
    {
        using HttpResponseMessage response = await client.GetAsync(RelativePath(path), cancellationToken);
        response.RequestMessage!.Options.TryGetValue(HeadlessServiceHttpOptions.PodEndpointKey, out PodEndpoint? pod);
        string body = await response.Content.ReadAsStringAsync(cancellationToken);
        return Results.Json(new { pod = pod?.Key, hostname = pod?.Hostname, statusCode = (int)response.StatusCode, body });
    }
    catch (HttpRequestException ex)
    {
        return Results.Json(new { pod = (string?)null, hostname = (string?)null, statusCode = 0, error = ex.Message }, statusCode: StatusCodes.Status502BadGateway);
    }
});

// An HTTP GET of ?path= on every pod, in parallel (FanOutAsync), in the schema of `headless-discovery fanout --json`.
app.MapGet("/fanout", async (string? path, [FromKeyedServices("backend")] IHeadlessService backend, IHttpClientFactory clients, CancellationToken cancellationToken) =>
{
    HttpClient client = clients.CreateClient("pods");
    string relative = RelativePath(path);
    FanOutResult<int> result = await backend.FanOutAsync(
        (pod, ct) => FanOutJson.GetAsync(client, pod, relative, ct),
        new FanOutOptions { PerPodTimeout = TimeSpan.FromSeconds(3) },
        cancellationToken);
    return Results.Text(FanOutJson.Write(backend.Name, result), "application/json");
});

// 200 for Healthy and Degraded, 503 for Unhealthy (the ASP.NET Core defaults), with the check's data as JSON.
app.MapHealthChecks("/healthz", new Microsoft.AspNetCore.Diagnostics.HealthChecks.HealthCheckOptions { ResponseWriter = HealthzWriter.WriteAsync });

app.Run();

static string RelativePath(string? path) => string.IsNullOrEmpty(path) ? "/" : path.StartsWith('/') ? path : "/" + path;

/// <summary>The entry point, visible to WebApplicationFactory in the tests.</summary>
public partial class Program;
