// The smallest useful program: watch a headless Service, print each change, and send one HTTP GET to every pod.
//
//   dotnet run --project examples/Headless.Discovery.Console                       (no cluster: embedded DNS + 3 loopback pods)
//   dotnet run --project examples/Headless.Discovery.Console -- headless-nginx 80  (inside a pod)
//   dotnet run --project examples/Headless.Discovery.Console -- web.default.svc.cluster.local 80 10.96.0.10
using System.Globalization;
using Headless.Discovery;
using Headless.Discovery.Testing;

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};

var options = new HeadlessServiceOptions { MinRefreshInterval = TimeSpan.FromSeconds(1), MaxRefreshInterval = TimeSpan.FromSeconds(5) };
EmbeddedDnsServer? dns = null;
LoopbackPodSet? pods = null;
if (args.Length == 0)
{
    // No cluster: an embedded DNS server answers for three real HTTP pods on loopback; they scale to 5 after a few seconds.
    dns = await EmbeddedDnsServer.StartAsync();
    pods = await LoopbackPodSet.StartAsync(3, 0, "web");
    pods.SyncToDns(dns, "web.default.svc.cluster.local", TimeSpan.FromSeconds(1));
    options.Name = "web.default.svc.cluster.local.";
    options.Port = pods.Port;
    options.DnsServers.Add(dns.NameServer);
    stop.CancelAfter(TimeSpan.FromSeconds(10));
}
else
{
    options.Name = args[0];
    options.Port = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 80;
    if (args.Length > 2)
    {
        options.DnsServers.Add(args[2]);
    }
}

await using var service = new HeadlessService(options);
using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
Console.WriteLine($"Watching {service.Name} (Ctrl+C to stop).");
try
{
    await foreach (EndpointSetChange change in service.WatchAsync(stop.Token))
    {
        Console.WriteLine($"v{change.Current.Version}: {change.Current.Endpoints.Length} pod(s){(change.Current.StaleSince is not null ? " (stale)" : "")}, +{change.Added.Length} -{change.Removed.Length}");

        // Fan out: one GET to every pod of this snapshot, in parallel.
        string[] answers = await Task.WhenAll(change.Current.Endpoints.Select(async pod =>
        {
            try
            {
                using HttpResponseMessage response = await http.GetAsync(new Uri($"http://{pod.EndPoint}/"), stop.Token);
                return $"  {pod.EndPoint} -> {(int)response.StatusCode}";
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                return $"  {pod.EndPoint} -> {ex.GetType().Name}";
            }
        }));
        Array.ForEach(answers, Console.WriteLine);

        if (pods is not null && change.Kind == EndpointSetChangeKind.Initial)
        {
            await pods.ScaleAsync(5, stop.Token);
            pods.SyncToDns(dns!, "web.default.svc.cluster.local", TimeSpan.FromSeconds(1));
        }
    }
}
catch (OperationCanceledException) when (stop.IsCancellationRequested)
{
    // Ctrl+C, or the end of the local demo.
}
finally
{
    if (pods is not null)
    {
        await pods.DisposeAsync();
    }

    if (dns is not null)
    {
        await dns.DisposeAsync();
    }
}
