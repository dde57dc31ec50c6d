using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using Headless.Discovery;
using Headless.Discovery.Testing;

// Measures active health checking at scale: N pods (default 1000) probed every second with the default concurrency
// bound (64), on this machine. The pods run in a child process so the CPU figure is the client's alone.
//
//   dotnet run -c Release --project benchmarks/Headless.Discovery.HealthMeasurement -- [pods] [seconds] [http|tcp] [maxConcurrent]
//
// Prints client CPU (% of one core and of the machine), probes/s, probe latency percentiles, the highest concurrency
// observed, allocations per probe and the pod process's CPU.
if (args.Length > 0 && args[0] == "serve")
{
    return await ServeAsync(int.Parse(args[1], CultureInfo.InvariantCulture), args[2]);
}

int podCount = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1000;
int seconds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 30;
string kind = args.Length > 2 ? args[2] : "http";
int maxConcurrent = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 64;

// Started either as `dotnet X.dll` (the host needs the assembly path) or through the apphost (it must not get it).
var start = new ProcessStartInfo(Environment.ProcessPath!)
{
    RedirectStandardOutput = true,
    RedirectStandardInput = true,
    UseShellExecute = false,
};
if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
{
    start.ArgumentList.Add(typeof(Program).Assembly.Location);
}

foreach (string arg in new[] { "serve", podCount.ToString(CultureInfo.InvariantCulture), kind })
{
    start.ArgumentList.Add(arg);
}

using var child = Process.Start(start)!;
var endpoints = new List<PodEndpoint>(podCount);
while (endpoints.Count < podCount)
{
    string line = await child.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException("the pod process ended");
    IPEndPoint ep = IPEndPoint.Parse(line);
    endpoints.Add(new PodEndpoint(ep.Address, ep.Port));
}

Console.WriteLine($"{podCount} {kind} pods up in process {child.Id}; probing every 1 s, timeout 2 s, MaxConcurrentProbes {maxConcurrent}, {Environment.ProcessorCount} cores");

var latencies = new List<double>(podCount * seconds * 2);
bool recording = false;
using var listener = new MeterListener();
listener.InstrumentPublished = (instrument, l) =>
{
    if (instrument.Meter.Name == DiscoveryTelemetry.Name && instrument.Name == "headless_discovery.probe.duration")
    {
        l.EnableMeasurementEvents(instrument);
    }
};
listener.SetMeasurementEventCallback<double>((_, value, _, _) =>
{
    if (Volatile.Read(ref recording))
    {
        lock (latencies)
        {
            latencies.Add(value);
        }
    }
});
listener.Start();

int inFlight = 0, maxInFlight = 0;
long failures = 0;
IEndpointProbe inner = EndpointProbes.Create(kind == "tcp" ? "tcp" : "http:/healthz");
IEndpointProbe counting = EndpointProbes.FromDelegate(async (endpoint, ct) =>
{
    int now = Interlocked.Increment(ref inFlight);
    int max;
    while (now > (max = Volatile.Read(ref maxInFlight)) && Interlocked.CompareExchange(ref maxInFlight, now, max) != max)
    {
    }

    try
    {
        ProbeResult result = await inner.ProbeAsync(endpoint, ct);
        if (!result.Succeeded && Volatile.Read(ref recording))
        {
            Interlocked.Increment(ref failures);
        }

        return result;
    }
    finally
    {
        Interlocked.Decrement(ref inFlight);
    }
});

var options = new HeadlessServiceOptions { MaxRefreshInterval = TimeSpan.FromHours(1) };
options.ActiveHealth.CustomProbe = counting;
options.ActiveHealth.Interval = TimeSpan.FromSeconds(1);
options.ActiveHealth.Timeout = TimeSpan.FromSeconds(2);
options.ActiveHealth.InitialJitter = TimeSpan.FromSeconds(1);
options.ActiveHealth.MaxConcurrentProbes = maxConcurrent;
await using var service = new HeadlessService(
    ServiceName.Parse("web.default.svc.cluster.local"),
    new ScriptedResolver(ResolutionResult.Success(endpoints, TimeSpan.FromHours(1))),
    options);

service.Start();
using (var allHealthy = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
{
    await foreach (EndpointSetChange change in service.WatchAsync(allHealthy.Token))
    {
        if (change.Current.HealthyCount == podCount)
        {
            break;
        }
    }
}

Console.WriteLine("all pods healthy; warming up 5 s");
await Task.Delay(TimeSpan.FromSeconds(5));

using var self = Process.GetCurrentProcess();
self.Refresh();
child.Refresh();
TimeSpan cpu0 = self.TotalProcessorTime, childCpu0 = child.TotalProcessorTime;
long alloc0 = GC.GetTotalAllocatedBytes(precise: false);
int gen0 = GC.CollectionCount(0), gen2 = GC.CollectionCount(2);
long wall0 = Stopwatch.GetTimestamp();
Volatile.Write(ref recording, true);

await Task.Delay(TimeSpan.FromSeconds(seconds));

Volatile.Write(ref recording, false);
TimeSpan wall = Stopwatch.GetElapsedTime(wall0);
self.Refresh();
child.Refresh();
TimeSpan cpu = self.TotalProcessorTime - cpu0, childCpu = child.TotalProcessorTime - childCpu0;
long allocated = GC.GetTotalAllocatedBytes(precise: false) - alloc0;

double[] sorted;
lock (latencies)
{
    sorted = latencies.Order().ToArray();
}

double P(double q) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(q * sorted.Length))] * 1000;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
    measured {wall.TotalSeconds:0.0} s
    probes: {sorted.Length} ({sorted.Length / wall.TotalSeconds:0} /s; target {podCount} /s), failed: {Interlocked.Read(ref failures)}
    client CPU: {cpu.TotalSeconds / wall.TotalSeconds * 100:0.0} % of one core ({cpu.TotalSeconds / wall.TotalSeconds / Environment.ProcessorCount * 100:0.0} % of the machine)
    pod process CPU: {childCpu.TotalSeconds / wall.TotalSeconds * 100:0.0} % of one core
    probe latency ms: p50 {P(0.50):0.00}  p90 {P(0.90):0.00}  p99 {P(0.99):0.00}  p99.9 {P(0.999):0.00}  max {P(1.0):0.00}
    max concurrent probes observed: {Volatile.Read(ref maxInFlight)} (bound {maxConcurrent})
    allocated: {allocated / Math.Max(1, sorted.Length)} B/probe; GCs gen0 {GC.CollectionCount(0) - gen0}, gen2 {GC.CollectionCount(2) - gen2}
    snapshot: v{service.Current.Version}, healthy {service.Current.HealthyCount}/{service.Current.Endpoints.Length}
    """));

await child.StandardInput.WriteLineAsync("stop");
await child.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
(inner as IDisposable)?.Dispose();
return 0;

static async Task<int> ServeAsync(int count, string kind)
{
    var pods = new List<LoopbackPod>(count);
    foreach (IPAddress address in LoopbackAddressPool.Next(count))
    {
        LoopbackPod pod = kind == "tcp" ? await LoopbackPod.StartTcpAsync(address) : await LoopbackPod.StartHttpAsync(address);
        pods.Add(pod);
        Console.WriteLine(pod.EndPoint);
    }

    await Console.In.ReadLineAsync();
    foreach (LoopbackPod pod in pods)
    {
        await pod.DisposeAsync();
    }

    return 0;
}
