using System.Diagnostics;
using System.Globalization;
using System.Net;
using Headless.Discovery;
using Headless.Discovery.Testing;

// Soak: an embedded DNS server whose answer churns every few milliseconds over 40 real loopback HTTP pods, a live
// HeadlessService refreshing as fast as it is allowed and probing every pod, picks with real HTTP calls reporting to
// passive health, quorum fan-outs, watchers and readers on top. After a warm-up, managed memory (after a full GC) and open file
// descriptors are sampled; the run fails (exit 1) if either grows beyond a small allowance.
//   dotnet run -c Release --project tests/Headless.Discovery.Soak -- [duration, default 3m]
TimeSpan duration = args.Length > 0 ? ParseDuration(args[0]) : TimeSpan.FromMinutes(3);
TimeSpan warmUp = TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(30).Ticks, duration.Ticks / 4));
const string Name = "soak.default.svc.cluster.local";

await using EmbeddedDnsServer dns = await EmbeddedDnsServer.StartAsync();

// Real HTTP pods on loopback addresses: the DNS answer is always a random subset of them, so probes, picks and
// fan-outs talk to real sockets (and never to anything off this machine).
await using LoopbackPodSet podSet = await LoopbackPodSet.StartAsync(40, namePrefix: "soak");
IPAddress[] podAddresses = podSet.Pods.Select(p => p.Address).ToArray();
dns.SetAddresses(Name, Pods(0, 20), TimeSpan.Zero);

var options = new HeadlessServiceOptions
{
    Name = Name,
    Port = podSet.Port,
    MinRefreshInterval = TimeSpan.FromMilliseconds(100), // the floor
    MaxRefreshInterval = TimeSpan.FromMilliseconds(100),
    DnsAttemptTimeout = TimeSpan.FromMilliseconds(500),
    EmptyAnswerConfirmations = 2,
    FailureBackoffBase = TimeSpan.FromMilliseconds(20),
    FailureBackoffMax = TimeSpan.FromMilliseconds(200),
};
options.DnsServers.Add(dns.NameServer);
options.ActiveHealth.Probe = "http:/";
options.ActiveHealth.Interval = TimeSpan.FromMilliseconds(200);
options.ActiveHealth.Timeout = TimeSpan.FromMilliseconds(500);
options.PassiveHealth.BaseEjectionTime = TimeSpan.FromMilliseconds(200);
options.PassiveHealth.MaxEjectionTime = TimeSpan.FromSeconds(1);
await using var service = new HeadlessService(options);
await service.WaitForEndpointsAsync(1);

using var stop = new CancellationTokenSource(duration);
long changesSeen = 0, reads = 0, churns = 0;

Task churn = Task.Run(async () =>
{
    var random = new Random(42);
    while (!stop.IsCancellationRequested)
    {
        int round = (int)Interlocked.Increment(ref churns);
        if (round % 50 == 7)
        {
            dns.InjectFault(DnsFault.ServerFailure, Name, count: 3); // a failed round: the set goes stale, then recovers
        }
        else if (round % 10 == 8)
        {
            dns.RemoveName(Name); // NXDOMAIN, as mid-rollout
        }
        else
        {
            dns.SetAddresses(Name, Pods(random.Next(0, 20), random.Next(5, 20)), TimeSpan.Zero);
            if (round % 25 == 3)
            {
                // A pod starts failing or recovers: health transitions and ejections keep happening.
                LoopbackPod pod = podSet.Pods[random.Next(podSet.Pods.Count)];
                pod.Behavior = pod.Behavior == PodBehavior.Healthy ? PodBehavior.Status(503) : PodBehavior.Healthy;
            }
        }

        try { await Task.Delay(10, stop.Token); } catch (OperationCanceledException) { }
    }
});

Task[] watchers = Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
{
    try
    {
        await foreach (EndpointSetChange change in service.WatchAsync(stop.Token))
        {
            Interlocked.Increment(ref changesSeen);
        }
    }
    catch (OperationCanceledException)
    {
    }
})).ToArray();

// Three Changed handlers: each must see strictly increasing versions; one reports a failure now and then from inside
// its delivery (a publish caused by a handler is delivered after the current one).
long handled = 0, inversions = 0;
for (int h = 0; h < 3; h++)
{
    long last = 0;
    bool reports = h == 0;
    service.Changed += (_, change) =>
    {
        Interlocked.Increment(ref handled);
        if (change.Current.Version <= last)
        {
            Interlocked.Increment(ref inversions);
        }

        last = change.Current.Version;
        if (reports && change.Current.Endpoints.Length > 0 && change.Current.Version % 17 == 0)
        {
            service.ReportOutcome(change.Current.Endpoints[0], false);
        }
    };
}

long picks = 0, fanOuts = 0;
Task picker = Task.Run(async () =>
{
    IEndpointSelector selector = EndpointSelectors.LeastRequest(service);
    using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
    while (!stop.IsCancellationRequested)
    {
        if (selector.TryLease(out EndpointLease lease))
        {
            using (lease)
            {
                bool ok;
                try
                {
                    using HttpResponseMessage response = await http.GetAsync(new Uri($"http://{lease.Endpoint.Key}/"), stop.Token);
                    ok = (int)response.StatusCode < 500;
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                    ok = false;
                }

                lease.Complete(ok);
            }

            Interlocked.Increment(ref picks);
        }

        if (Interlocked.Read(ref picks) % 50 == 0)
        {
            try
            {
                await service.FanOutAsync(
                    async (pod, ct) =>
                    {
                        using HttpResponseMessage r = await http.GetAsync(new Uri($"http://{pod.Key}/"), ct);
                        return (int)r.StatusCode;
                    },
                    new FanOutOptions { Mode = FanOutMode.Quorum(2), PerPodTimeout = TimeSpan.FromSeconds(1) },
                    stop.Token);
                Interlocked.Increment(ref fanOuts);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
        }

        try { await Task.Delay(2, stop.Token); } catch (OperationCanceledException) { }
    }
});

Task reader = Task.Run(() =>
{
    long last = 0;
    while (!stop.IsCancellationRequested)
    {
        EndpointSet s = service.Current;
        if (s.Version < last)
        {
            throw new InvalidOperationException($"version went back from {last} to {s.Version}");
        }

        last = s.Version;
        Interlocked.Increment(ref reads);
        Thread.SpinWait(200);
    }
});

var samples = new List<(TimeSpan At, long Managed, int Fds, long Version)>();
var clock = Stopwatch.StartNew();
Console.WriteLine($"soak: {duration} of churn (warm-up {warmUp}), sampling every 10 s");
Console.WriteLine("  elapsed | managed after GC | open fds | version | changes seen | churn rounds");
while (!stop.IsCancellationRequested)
{
    try { await Task.Delay(TimeSpan.FromSeconds(10), stop.Token); } catch (OperationCanceledException) { }
    dns.ResetCounters(); // the test server's own query log is not the library's memory
    GC.Collect();
    GC.WaitForPendingFinalizers();
    GC.Collect();
    long managed = GC.GetTotalMemory(forceFullCollection: true);
    int fds = Directory.GetFiles("/proc/self/fd").Length;
    samples.Add((clock.Elapsed, managed, fds, service.Current.Version));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"  {clock.Elapsed:mm\\:ss} | {managed / 1024.0,12:N0} KiB | {fds,8} | {service.Current.Version,7} | {Interlocked.Read(ref changesSeen),12} | {Interlocked.Read(ref churns),12}"));
}

await Task.WhenAll(watchers.Append(churn).Append(reader).Append(picker));

var steady = samples.Where(s => s.At >= warmUp).ToList();
if (steady.Count < 2)
{
    Console.WriteLine("soak: too short to judge (need at least two samples after the warm-up)");
    return 2;
}

long memoryGrowth = steady[^1].Managed - steady[0].Managed;
int fdGrowth = steady[^1].Fds - steady[0].Fds;
double churnRate = Interlocked.Read(ref churns) / clock.Elapsed.TotalSeconds;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"soak: {clock.Elapsed.TotalSeconds:0} s, {churnRate:0} DNS changes/s, {service.Current.Version} versions published, {Interlocked.Read(ref changesSeen)} changes delivered to 3 watchers, {Interlocked.Read(ref handled)} to 3 Changed handlers ({Interlocked.Read(ref inversions)} out of order), {Interlocked.Read(ref reads):N0} snapshot reads, {Interlocked.Read(ref picks):N0} picks with real HTTP calls, {Interlocked.Read(ref fanOuts):N0} quorum fan-outs, 40 pods probed every 200 ms"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"soak: after warm-up, managed memory {steady[0].Managed / 1024.0:N0} -> {steady[^1].Managed / 1024.0:N0} KiB ({memoryGrowth / 1024.0:+0;-0} KiB), open fds {steady[0].Fds} -> {steady[^1].Fds} ({fdGrowth:+0;-0})"));

bool flat = memoryGrowth < 4 * 1024 * 1024 && fdGrowth <= 4;
bool ordered = Interlocked.Read(ref inversions) == 0;
Console.WriteLine(flat && ordered
    ? "soak: PASS (memory and descriptors flat, every handler saw increasing versions)"
    : $"soak: FAIL ({(flat ? string.Empty : "growth beyond 4 MiB or 4 descriptors; ")}{(ordered ? string.Empty : "a handler saw a version out of order")})");
return flat && ordered ? 0 : 1;

IPAddress[] Pods(int first, int count) => podAddresses.Skip(first).Take(count).ToArray();

static TimeSpan ParseDuration(string text) => text switch
{
    _ when text.EndsWith("ms", StringComparison.Ordinal) => TimeSpan.FromMilliseconds(double.Parse(text[..^2], CultureInfo.InvariantCulture)),
    _ when text.EndsWith('s') => TimeSpan.FromSeconds(double.Parse(text[..^1], CultureInfo.InvariantCulture)),
    _ when text.EndsWith('m') => TimeSpan.FromMinutes(double.Parse(text[..^1], CultureInfo.InvariantCulture)),
    _ => TimeSpan.Parse(text, CultureInfo.InvariantCulture),
};
