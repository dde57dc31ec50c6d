using Headless.Discovery;
using Headless.Discovery.Examples.Redis;
using Microsoft.Extensions.Logging;

// A Redis primary + replicas behind one headless Service (in Kubernetes: a StatefulSet whose pods 1..n run
// `redis-server --replicaof redis-0.redis <port>`). Usage: [name [port [dns-server]]], e.g.
//   dotnet run --project examples/Headless.Discovery.Redis -- redis.default.svc.cluster.local 6379
string name = args.ElementAtOrDefault(0) ?? "redis";
int port = int.Parse(args.ElementAtOrDefault(1) ?? "6379", System.Globalization.CultureInfo.InvariantCulture);
using ILoggerFactory logging = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true));
var options = new HeadlessServiceOptions { Name = name, Port = port, MinRefreshInterval = TimeSpan.FromSeconds(1) };
if (args.ElementAtOrDefault(2) is { } dnsServer)
{
    options.DnsServers.Add(dnsServer);
}

await using var service = new HeadlessService(options, loggerFactory: logging);
await using var redis = new RedisReplicaSet(service, logging);
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
redis.Start();

// Once a second: an acknowledged write to the primary, then the same key read back from every replica.
for (long n = 0; !stop.IsCancellationRequested; n++)
{
    try
    {
        await redis.WriteAsync("counter", n.ToString(System.Globalization.CultureInfo.InvariantCulture), replicas: 1, stop.Token);
        IReadOnlyList<(PodEndpoint Replica, string? Value)> reads = await redis.ReadFromReplicasAsync("counter", stop.Token);
        Console.WriteLine($"wrote counter={n} to {await redis.FindPrimaryAsync(stop.Token)}; replicas: {string.Join(", ", reads.Select(r => $"{r.Replica}={r.Value}"))}");
    }
    catch (Exception e) when (e is InvalidOperationException or StackExchange.Redis.RedisException)
    {
        Console.WriteLine($"no acknowledged write: {e.Message}");
    }

    await Task.Delay(TimeSpan.FromSeconds(1), stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
}
