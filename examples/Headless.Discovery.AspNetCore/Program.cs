using Headless.Discovery;
using Headless.Discovery.Cli;
using Headless.Discovery.Examples.AspNetCore;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

WebApplicationBuilder builder = WebApplication.CreateBuilder(args);

// No backend configured: play a cluster on loopback (embedded DNS + 3 HTTP pods), like `headless-discovery demo`.
// In Kubernetes: HeadlessDiscovery__Services__backend__Name=headless-nginx (and Port), nothing else.
if (string.IsNullOrWhiteSpace(builder.Configuration["HeadlessDiscovery:Services:backend:Name"]))
{
    LocalCluster cluster = await LocalCluster.StartAsync();
    builder.Configuration.AddInMemoryCollection(cluster.Configuration("backend"));
    builder.Services.AddSingleton(cluster);
    Console.WriteLine($"No HeadlessDiscovery:Services:backend:Name configured: serving {LocalCluster.ServiceName} from an embedded DNS server on {cluster.Dns.NameServer} with {cluster.Pods.Pods.Count} loopback pods.");
}

builder.Services.AddHeadlessService("backend");
builder.Services.AddHealthChecks().AddHeadlessServiceCheck("backend", minHealthy: 1);

WebApplication app = builder.Build();

// The current snapshot, in the schema of one `headless-discovery watch --json` line.
app.MapGet("/pods", ([FromKeyedServices("backend")] IHeadlessService backend, TimeProvider time) =>
    Results.Text(JsonOutput.WatchLine(time.GetUtcNow(), EndpointSetChange.Compute(null, backend.Current)), "application/json"));

// 200 for Healthy and Degraded, 503 for Unhealthy (the ASP.NET Core defaults), with the check's data as JSON.
app.MapHealthChecks("/healthz", new HealthCheckOptions { ResponseWriter = HealthzWriter.WriteAsync });

app.Run();

/// <summary>The entry point, visible to WebApplicationFactory in the tests.</summary>
public partial class Program;
