using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using DnsClient;
using Headless.Discovery;
using Headless.Discovery.TestSupport;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

// Measures many headless Services watched by one process: S services x P pods each, answered by a real dnsmasq (the
// DNS side, a child process) with TTL 5 s. One configuration per process, so heap figures are the configuration's own.
//
//   dotnet run -c Release --project benchmarks/Headless.Discovery.ScaleMeasurement -- [services] [pods] [seconds] [ttl]
//   dotnet run -c Release --project benchmarks/Headless.Discovery.ScaleMeasurement -- matrix [seconds]
//
// Prints startup to all resolved, queries dnsmasq saw while starting, heap per service, CPU and allocation per
// refresh beside a raw DnsClient query of the same answer, DNS queries per second and the TCP connections held.
const string Domain = "cluster.local";
const string Dnsmasq = "/usr/sbin/dnsmasq";

if (args.Length > 0 && args[0] == "matrix")
{
    return await MatrixAsync(args.Length > 1 ? args[1] : "30");
}

int serviceCount = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100;
int podCount = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 20;
int seconds = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 30;
int ttl = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 5;

if (!File.Exists(Dnsmasq))
{
    Console.Error.WriteLine($"This measurement needs a real dnsmasq at {Dnsmasq}: apt-get install -y dnsmasq-base");
    return 2;
}

string root = Directory.CreateTempSubdirectory("hd-scale-").FullName;
string hosts = Path.Combine(root, "hosts");
string queryLog = Path.Combine(root, "queries.log");
Directory.CreateDirectory(hosts);
for (int s = 0; s < serviceCount; s++)
{
    // Pod addresses are only ever answered, never contacted.
    using var writer = new StreamWriter(Path.Combine(hosts, $"svc{s}"));
    for (int p = 0; p < podCount; p++)
    {
        writer.WriteLine($"127.{1 + (s / 250)}.{s % 250}.{1 + p} svc{s}.default.svc.{Domain}");
    }
}

File.WriteAllText(Path.Combine(hosts, "warmup"), $"127.0.0.1 warmup.default.svc.{Domain}\n");
int port = FreePort();
var start = new ProcessStartInfo(Dnsmasq) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
foreach (string arg in new[]
{
    "--keep-in-foreground", $"--log-facility={queryLog}", "--log-queries", "--listen-address=127.0.0.1", "--listen-address=127.0.0.2",
    $"--port={port}", "--bind-interfaces", "--no-resolv", "--no-hosts", "--no-poll", $"--local=/{Domain}/", $"--hostsdir={hosts}",
    $"--local-ttl={ttl}", "--no-negcache", "--conf-file=/dev/null", $"--pid-file={Path.Combine(root, "dnsmasq.pid")}",
})
{
    start.ArgumentList.Add(arg);
}

if (Environment.UserName == "root")
{
    start.ArgumentList.Add("--user=root");
}

using Process dnsmasq = Process.Start(start)!;
try
{
    var server = new IPEndPoint(IPAddress.Loopback, port);
    var raw = new LookupClient(new LookupClientOptions(new NameServer(server))
    {
        UseCache = false,
        Retries = 0,
        UseTcpFallback = true,
        Timeout = TimeSpan.FromSeconds(2),
        ContinueOnDnsError = false,
        ContinueOnEmptyResponse = false,
    });

    // Ready once dnsmasq answers every service with every pod (asked through another address, so the measured
    // transport and gate start fresh).
    var readyOptions = new HeadlessServiceOptions { Port = 8080 };
    readyOptions.DnsServers.Add($"127.0.0.2:{port}");
    var ready = new DnsEndpointResolver(readyOptions);
    for (int attempt = 0; attempt < 200; attempt++)
    {
        ResolutionResult answer = await ready.ResolveAsync(ServiceName.Parse($"svc{serviceCount - 1}.default.svc.{Domain}"));
        if (answer.Endpoints.Length == podCount)
        {
            break;
        }

        await Task.Delay(100);
    }

    // Raw DnsClient, same answer: the floor for a refresh whose answer did not change. Over TCP (P = 200) DnsClient
    // reuses a pooled connection that dnsmasq's per-connection child has stopped serving, and the query times out.
    string firstName = $"svc0.default.svc.{Domain}";
    long rawAllocPerQuery = -1;
    try
    {
        for (int i = 0; i < 50; i++)
        {
            await raw.QueryAsync(firstName, QueryType.A);
        }

        const int RawQueries = 400;
        long rawAlloc0 = GC.GetTotalAllocatedBytes(precise: true);
        for (int i = 0; i < RawQueries; i++)
        {
            await raw.QueryAsync(firstName, QueryType.A);
        }

        rawAllocPerQuery = (GC.GetTotalAllocatedBytes(precise: true) - rawAlloc0) / RawQueries;
    }
    catch (DnsResponseException ex)
    {
        Console.WriteLine($"raw DnsClient failed: {ex.Message}");
    }

    // Warm the code paths against another name-server address, so the figures below hold no one-time statics.
    await using (var warm = new HeadlessService(Options($"warmup.default.svc.{Domain}", $"127.0.0.2:{port}")))
    {
        await warm.GetEndpointsAsync();
    }

    long resolutions = 0, failures = 0;
    using var listener = new MeterListener();
    listener.InstrumentPublished = (instrument, l) =>
    {
        if (instrument.Meter.Name == DiscoveryTelemetry.Name && instrument.Name is "headless_discovery.resolution.duration" or "headless_discovery.resolution.errors")
        {
            l.EnableMeasurementEvents(instrument);
        }
    };
    listener.SetMeasurementEventCallback<double>((_, _, _, _) => Interlocked.Increment(ref resolutions));
    listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref failures, value));
    listener.Start();

    // What the idle process allocates on its own (runtime timers, the listener): taken off the steady figure below.
    long idle0 = GC.GetTotalAllocatedBytes(precise: true);
    long idleStart = Stopwatch.GetTimestamp();
    await Task.Delay(TimeSpan.FromSeconds(5));
    double idleBytesPerSecond = (GC.GetTotalAllocatedBytes(precise: true) - idle0) / Stopwatch.GetElapsedTime(idleStart).TotalSeconds;

    int queriesBefore = CountQueries(queryLog);
    GC.Collect();
    GC.WaitForPendingFinalizers();
    long heap0 = GC.GetTotalMemory(forceFullCollection: true);

    var services = new HeadlessService[serviceCount];
    for (int s = 0; s < serviceCount; s++)
    {
        services[s] = new HeadlessService(Options($"svc{s}.default.svc.{Domain}", $"127.0.0.1:{port}"));
    }

    long started = Stopwatch.GetTimestamp();
    foreach (HeadlessService service in services)
    {
        service.Start();
    }

    await Task.WhenAll(services.Select(s => s.GetEndpointsAsync().AsTask()));
    TimeSpan startup = Stopwatch.GetElapsedTime(started);
    int resolvedFirst = services.Count(s => s.Current.Endpoints.Length == podCount && s.Current.Version == 1 && s.Current.LastError is null);
    long startupFailures = Interlocked.Read(ref failures);
    await Task.Delay(500); // the query log is written asynchronously
    int startupQueries = CountQueries(queryLog) - queriesBefore;

    GC.Collect();
    GC.WaitForPendingFinalizers();
    long heapPerService = (GC.GetTotalMemory(forceFullCollection: true) - heap0) / serviceCount;

    // Steady state: nothing changes; every service refreshes once per TTL. First CPU and allocation alone (no
    // sampler running), then the TCP connections the process holds.
    await Task.Delay(TimeSpan.FromSeconds(ttl));
    using var self = Process.GetCurrentProcess();
    self.Refresh();
    TimeSpan cpu0 = self.TotalProcessorTime;
    long alloc0 = GC.GetTotalAllocatedBytes(precise: true);
    long resolutions0 = Interlocked.Read(ref resolutions), failures0 = Interlocked.Read(ref failures);
    long wall0 = Stopwatch.GetTimestamp();
    await Task.Delay(TimeSpan.FromSeconds(seconds));
    TimeSpan wall = Stopwatch.GetElapsedTime(wall0);
    self.Refresh();
    TimeSpan cpu = self.TotalProcessorTime - cpu0;
    long allocated = GC.GetTotalAllocatedBytes(precise: true) - alloc0;
    long refreshes = Interlocked.Read(ref resolutions) - resolutions0;
    long allocPerRefresh = refreshes == 0 ? 0 : (long)((allocated - (idleBytesPerSecond * wall.TotalSeconds)) / refreshes);

    // Sample the process's own TCP sockets to dnsmasq every 20 ms: how many, and how long the longest one lived.
    var firstSeen = new Dictionary<string, long>();
    long longestMs = 0;
    int maxHeld = 0, samples = 0, samplesWithAny = 0;
    long deadline = Stopwatch.GetTimestamp() + (long)(Math.Max(ttl * 2, seconds / 2) * (double)Stopwatch.Frequency);
    while (Stopwatch.GetTimestamp() < deadline)
    {
        IReadOnlyList<string> held = ProcessTcpConnections.To(server);
        samples++;
        samplesWithAny += held.Count > 0 ? 1 : 0;
        maxHeld = Math.Max(maxHeld, held.Count);
        long now = Stopwatch.GetTimestamp();
        foreach (string socket in held)
        {
            firstSeen.TryAdd(socket, now);
            longestMs = Math.Max(longestMs, (long)Stopwatch.GetElapsedTime(firstSeen[socket], now).TotalMilliseconds);
        }

        await Task.Delay(20);
    }

    long steadyFailures = Interlocked.Read(ref failures) - failures0;
    int stale = services.Count(s => s.Current.Endpoints.Length != podCount || s.Current.LastError is not null);

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
        {serviceCount} services x {podCount} pods, dnsmasq TTL {ttl} s, {Environment.ProcessorCount} cores, measured {wall.TotalSeconds:0.0} s
        startup to all resolved: {startup.TotalMilliseconds:0} ms; resolved in the first round: {resolvedFirst}/{serviceCount}; failures while starting: {startupFailures}; queries dnsmasq saw while starting: {startupQueries}
        heap per service: {heapPerService / 1024.0:0.0} KB
        steady: {refreshes} refreshes ({refreshes / wall.TotalSeconds:0.0} /s), {steadyFailures} failed, {stale} services stale or short at the end
        CPU: {cpu.TotalSeconds / wall.TotalSeconds * 100:0.0} % of one core, {(refreshes == 0 ? 0 : cpu.TotalMilliseconds * 1000 / refreshes):0} us per refresh
        allocated per unchanged refresh: {allocPerRefresh / 1024.0:0.0} KB (net of the idle process's {idleBytesPerSecond:0} B/s); raw DnsClient query of the same answer: {RawText()}
        TCP connections to dnsmasq: at most {maxHeld} at once, in {samplesWithAny} of {samples} samples; longest-lived {longestMs} ms
        ROW|{serviceCount} x {podCount}|{startup.TotalMilliseconds:0} ms|{resolvedFirst}/{serviceCount}|{heapPerService / 1024.0:0.0} KB|{(refreshes == 0 ? 0 : cpu.TotalMilliseconds * 1000 / refreshes):0} us|{cpu.TotalSeconds / wall.TotalSeconds * 100:0.0} %|{allocPerRefresh / 1024.0:0.0} KB / {RawText()}|{refreshes / wall.TotalSeconds:0.0}|{maxHeld} (longest {longestMs} ms)|{stale}
        """));

    foreach (HeadlessService service in services)
    {
        await service.DisposeAsync();
    }

    string RawText() => rawAllocPerQuery < 0
        ? "n/a (its pooled TCP connection timed out)"
        : string.Create(CultureInfo.InvariantCulture, $"{rawAllocPerQuery / 1024.0:0.0} KB ({(double)allocPerRefresh / rawAllocPerQuery:0.00}x)");

    return stale == 0 && resolvedFirst == serviceCount ? 0 : 1;
}
finally
{
    try
    {
        dnsmasq.Kill(entireProcessTree: true);
        await dnsmasq.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
    }
    catch (InvalidOperationException)
    {
    }

    Directory.Delete(root, recursive: true);
}

static HeadlessServiceOptions Options(string name, string server) => new()
{
    Name = name,
    Port = 8080,
    DnsServers = { server },
};

static int CountQueries(string log)
{
    if (!File.Exists(log))
    {
        return 0;
    }

    using var stream = new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
    using var reader = new StreamReader(stream);
    int count = 0;
    while (reader.ReadLine() is { } line)
    {
        if (line.Contains(" query[", StringComparison.Ordinal))
        {
            count++;
        }
    }

    return count;
}

static int FreePort()
{
    using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
    return ((IPEndPoint)probe.LocalEndPoint!).Port;
}

static async Task<int> MatrixAsync(string seconds)
{
    (int S, int P)[] matrix = [(1, 20), (10, 20), (100, 20), (500, 20), (10, 200), (100, 200)];
    Console.WriteLine("| S x P | startup to all resolved | resolved in first round | heap per service | CPU per refresh | CPU (one core) | alloc per unchanged refresh / raw DnsClient | DNS QPS | TCP connections held (longest) | stale |");
    Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    int worst = 0;
    foreach ((int s, int p) in matrix)
    {
        var child = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            child.ArgumentList.Add(typeof(Program).Assembly.Location);
        }

        foreach (string arg in new[] { s.ToString(CultureInfo.InvariantCulture), p.ToString(CultureInfo.InvariantCulture), seconds })
        {
            child.ArgumentList.Add(arg);
        }

        using Process run = Process.Start(child)!;
        string output = await run.StandardOutput.ReadToEndAsync();
        await run.WaitForExitAsync();
        worst = Math.Max(worst, run.ExitCode);
        Console.Error.WriteLine(output);
        string? row = output.Split('\n').FirstOrDefault(l => l.StartsWith("ROW|", StringComparison.Ordinal));
        Console.WriteLine(row is null ? $"| {s} x {p} | failed (exit {run.ExitCode}) |" : "| " + string.Join(" | ", row.TrimEnd().Split('|').Skip(1)) + " |");
    }

    return worst;
}
