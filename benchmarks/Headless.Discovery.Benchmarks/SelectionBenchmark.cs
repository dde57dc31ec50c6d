using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Microsoft.Extensions.ServiceDiscovery;
using Headless.Discovery.Testing;

namespace Headless.Discovery.Benchmarks;

/// <summary>
/// One pick from a live <see cref="HeadlessService"/> holding N StatefulSet-style pods (SRV hostnames <c>web-&lt;n&gt;</c>).
/// The floor is the least any round robin can do: one <see cref="Interlocked.Increment(ref int)"/> and an array index.
/// The peer is Microsoft.Extensions.ServiceDiscovery's round-robin selector (internal: bound through reflection once,
/// see <see cref="MeSdRoundRobinSelector"/>). The "2 threads" category measures the benchmark thread's pick while a
/// second thread runs the same pick on the same selector in a tight loop (this machine has 2 cores: both busy),
/// against the floor under the same contention.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)]
[CategoriesColumn]
public class SelectionBenchmark
{
    private const string Single = "1 thread";
    private const string Contended = "2 threads";
    private const string Key = "user-4711";
    private const int SubsetSize = 10;

    /// <summary>
    /// Picks per invocation: a loop of 64 makes the per-pick figure robust against BenchmarkDotNet's overhead subtraction,
    /// which at one pick per call (about a nanosecond) is noisier than the pick itself.
    /// </summary>
    private const int Picks = 64;

    private PodEndpoint[] _endpoints = null!;
    private int _floorCounter;
    private MeSdRoundRobinSelector _meSd = null!;
    private HeadlessService _service = null!;
    private IEndpointSelector _roundRobin = null!;
    private IEndpointSelector _random = null!;
    private IEndpointSelector _leastRequest2 = null!;
    private ConsistentHashSelector _hash = null!;
    private ulong _keyHash;
    private IEndpointSelector _ordinal = null!;
    private IEndpointSelector _pickFirst = null!;
    private IEndpointSelector _subset = null!;
    private IEndpointSelector _leastRequest3 = null!;
    private IEndpointSelector _leastRequestScan = null!;
    private IEndpointSelector _leastRequestLimited = null!;
    private HeadlessService _rampService = null!;
    private HeadlessService _rampedService = null!;
    private IEndpointSelector _roundRobinRamping = null!;
    private IEndpointSelector _leastRequestRamping = null!;
    private IEndpointSelector _roundRobinRamped = null!;
    private Contention? _contention;

    [Params(3, 100, 1000)]
    public int Endpoints { get; set; }

    [GlobalSetup]
    public async Task Setup()
    {
        _endpoints = Fixtures.StatefulEndpoints(Endpoints);
        _meSd = await MeSdRoundRobinSelector.CreateAsync(Endpoints);
        _service = new HeadlessService(Fixtures.Service, new ScriptedResolver(_endpoints), Fixtures.QuietOptions());
        EndpointSet set = await _service.RefreshAsync();
        _endpoints = [.. set.Endpoints];

        _roundRobin = EndpointSelectors.RoundRobin(_service);
        _random = EndpointSelectors.Random(_service);
        _leastRequest2 = EndpointSelectors.LeastRequest(_service);
        _hash = EndpointSelectors.ConsistentHash(_service);
        _keyHash = StableHash.Hash(Key.AsSpan());
        _ordinal = EndpointSelectors.Ordinal(_service, ordinal: Endpoints - 1);
        _pickFirst = EndpointSelectors.PickFirst(_service);
        _subset = EndpointSelectors.Subset(_service, SubsetSize, "client-a");
        _leastRequest3 = EndpointSelectors.LeastRequest(_service, 3);
        _leastRequestScan = EndpointSelectors.LeastRequest(_service, Math.Min(Endpoints, 64));
        _leastRequestLimited = EndpointSelectors.LeastRequest(_service, 2, maxLeasesPerPod: 1_000_000);

        // Build every table now: the first pick after a snapshot change pays for it, the benchmark measures the rest.
        _ = _roundRobin.Pick();
        _ = _random.Pick();
        _ = _leastRequest2.Pick();
        _ = _hash.Pick(_keyHash);
        _ = _pickFirst.Pick();
        _ = _subset.Pick();
        _ = _leastRequest3.Pick();
        _ = _leastRequestScan.Pick();
        _ = _leastRequestLimited.Pick();
        if (_ordinal.Pick().Ordinal != Endpoints - 1)
        {
            throw new InvalidOperationException("The ordinal selector picked the wrong pod.");
        }

        await SetupSlowStartAsync();
    }

    /// <summary>
    /// Slow start: the last pod joins after the selectors' first pick. On one service it ramps for the whole run (a
    /// one-hour window on the system clock: every pick reads the clock and weighs the pod); on the other, a fake clock
    /// has already passed the window (the path once every ramp is over).
    /// </summary>
    private async Task SetupSlowStartAsync()
    {
        var options = new SlowStartOptions { Window = TimeSpan.FromHours(1) };
        var ramping = new ScriptedResolver(_endpoints[..^1]);
        var ramped = new ScriptedResolver(_endpoints[..^1]);
        var clock = new JumpingClock();
        _rampService = new HeadlessService(Fixtures.Service, ramping, Fixtures.QuietOptions());
        _rampedService = new HeadlessService(Fixtures.Service, ramped, Fixtures.QuietOptions(), clock);
        await _rampService.RefreshAsync();
        await _rampedService.RefreshAsync();
        _roundRobinRamping = EndpointSelectors.RoundRobin(_rampService, options);
        _leastRequestRamping = EndpointSelectors.LeastRequest(_rampService, slowStart: options);
        _roundRobinRamped = EndpointSelectors.RoundRobin(_rampedService, options);
        IEndpointSelector[] selectors = [_roundRobinRamping, _leastRequestRamping, _roundRobinRamped];
        Array.ForEach(selectors, s => s.Pick());

        ramping.Fallback = ResolutionResult.Success(_endpoints, TimeSpan.FromSeconds(5));
        ramped.Fallback = ramping.Fallback;
        await _rampService.RefreshAsync();
        await _rampedService.RefreshAsync();
        Array.ForEach(selectors, s => s.Pick());
        clock.Jump(TimeSpan.FromHours(2));
        _ = _roundRobinRamped.Pick();
    }

    /// <summary>The system clock, moved ahead on request.</summary>
    private sealed class JumpingClock : TimeProvider
    {
        private long _ahead;

        public void Jump(TimeSpan by) => _ahead += (long)(by.TotalSeconds * TimestampFrequency);

        public override long GetTimestamp() => base.GetTimestamp() + _ahead;
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        _contention?.Dispose();
        _contention = null;
        await _meSd.DisposeAsync();
        await _service.DisposeAsync();
        await _rampService.DisposeAsync();
        await _rampedService.DisposeAsync();
    }

    // ---- single-threaded ----

    /// <summary>The floor: an interlocked counter and an array index, nothing else.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Picks, Description = "Floor: Interlocked.Increment + index")]
    [BenchmarkCategory(Single)]
    public PodEndpoint Floor()
    {
        PodEndpoint last = null!;
        for (int i = 0; i < Picks; i++)
        {
            last = FloorPick();
        }

        return last;
    }

    private PodEndpoint FloorPick()
    {
        PodEndpoint[] endpoints = _endpoints;
        uint next = (uint)Interlocked.Increment(ref _floorCounter);
        return endpoints[(int)(next % (uint)endpoints.Length)];
    }

    [Benchmark(OperationsPerInvoke = Picks, Description = "Peer: ME.SD RoundRobinServiceEndpointSelector")]
    [BenchmarkCategory(Single)]
    public ServiceEndpoint MeSdRoundRobin()
    {
        ServiceEndpoint last = null!;
        for (int i = 0; i < Picks; i++)
        {
            last = _meSd.Pick(null);
        }

        return last;
    }

    [Benchmark(OperationsPerInvoke = Picks, Description = "RoundRobin")]
    [BenchmarkCategory(Single)]
    public PodEndpoint RoundRobin()
    {
        PodEndpoint last = null!;
        for (int i = 0; i < Picks; i++)
        {
            last = _roundRobin.Pick();
        }

        return last;
    }

    [Benchmark(OperationsPerInvoke = Picks, Description = "Random")]
    [BenchmarkCategory(Single)]
    public PodEndpoint Random()
    {
        PodEndpoint last = null!;
        for (int i = 0; i < Picks; i++)
        {
            last = _random.Pick();
        }

        return last;
    }

    [Benchmark(OperationsPerInvoke = Picks, Description = "LeastRequest(2) (pick)")]
    [BenchmarkCategory(Single)]
    public PodEndpoint LeastRequest2()
    {
        PodEndpoint last = null!;
        for (int i = 0; i < Picks; i++)
        {
            last = _leastRequest2.Pick();
        }

        return last;
    }

    [Benchmark(OperationsPerInvoke = Picks, Description = "LeastRequest(2) (lease + dispose)")]
    [BenchmarkCategory(Single)]
    public PodEndpoint LeastRequest2Lease()
    {
        PodEndpoint last = null!;
        for (int i = 0; i < Picks; i++)
        {
            last = LeaseOnce();
        }

        return last;
    }

    private PodEndpoint LeaseOnce()
    {
        using EndpointLease lease = _leastRequest2.Lease();
        return lease.Endpoint;
    }

    [Benchmark(OperationsPerInvoke = Picks, Description = "ConsistentHash (key hash)")]
    [BenchmarkCategory(Single)]
    public PodEndpoint ConsistentHash()
    {
        PodEndpoint last = null!;
        for (int i = 0; i < Picks; i++)
        {
            last = _hash.Pick(_keyHash);
        }

        return last;
    }

    [Benchmark(OperationsPerInvoke = Picks, Description = "ConsistentHash (string key)")]
    [BenchmarkCategory(Single)]
    public PodEndpoint ConsistentHashStringKey()
    {
        PodEndpoint last = null!;
        for (int i = 0; i < Picks; i++)
        {
            last = _hash.Pick(Key.AsSpan());
        }

        return last;
    }

    [Benchmark(OperationsPerInvoke = Picks, Description = "Ordinal (last ordinal)")]
    [BenchmarkCategory(Single)]
    public PodEndpoint Ordinal()
    {
        PodEndpoint last = null!;
        for (int i = 0; i < Picks; i++)
        {
            last = _ordinal.Pick();
        }

        return last;
    }

    [Benchmark(OperationsPerInvoke = Picks, Description = "PickFirst")]
    [BenchmarkCategory(Single)]
    public PodEndpoint PickFirst()
    {
        PodEndpoint last = null!;
        for (int i = 0; i < Picks; i++)
        {
            last = _pickFirst.Pick();
        }

        return last;
    }

    [Benchmark(OperationsPerInvoke = Picks, Description = "LeastRequest(3) (pick)")]
    [BenchmarkCategory(Single)]
    public PodEndpoint LeastRequest3()
    {
        PodEndpoint last = null!;
        for (int i = 0; i < Picks; i++)
        {
            last = _leastRequest3.Pick();
        }

        return last;
    }

    /// <summary>Every pod compared (choices = pods, at most 64): a full scan at 3 pods, 64 samples above.</summary>
    [Benchmark(OperationsPerInvoke = Picks, Description = "LeastRequest(min(pods, 64)) (pick)")]
    [BenchmarkCategory(Single)]
    public PodEndpoint LeastRequestScan()
    {
        PodEndpoint last = null!;
        for (int i = 0; i < Picks; i++)
        {
            last = _leastRequestScan.Pick();
        }

        return last;
    }

    /// <summary>The per-pod limit's path: a lease reserves its slot by compare-and-swap.</summary>
    [Benchmark(OperationsPerInvoke = Picks, Description = "LeastRequest(2, limit) (lease + dispose)")]
    [BenchmarkCategory(Single)]
    public PodEndpoint LeastRequestLimitedLease()
    {
        PodEndpoint last = null!;
        for (int i = 0; i < Picks; i++)
        {
            using EndpointLease lease = _leastRequestLimited.Lease();
            last = lease.Endpoint;
        }

        return last;
    }

    [Benchmark(OperationsPerInvoke = Picks, Description = "RoundRobin + slow start (1 pod ramping)")]
    [BenchmarkCategory(Single)]
    public PodEndpoint RoundRobinRamping()
    {
        PodEndpoint last = null!;
        for (int i = 0; i < Picks; i++)
        {
            last = _roundRobinRamping.Pick();
        }

        return last;
    }

    [Benchmark(OperationsPerInvoke = Picks, Description = "RoundRobin + slow start (window over)")]
    [BenchmarkCategory(Single)]
    public PodEndpoint RoundRobinRamped()
    {
        PodEndpoint last = null!;
        for (int i = 0; i < Picks; i++)
        {
            last = _roundRobinRamped.Pick();
        }

        return last;
    }

    [Benchmark(OperationsPerInvoke = Picks, Description = "LeastRequest(2) + slow start (1 pod ramping, lease + dispose)")]
    [BenchmarkCategory(Single)]
    public PodEndpoint LeastRequestRampingLease()
    {
        PodEndpoint last = null!;
        for (int i = 0; i < Picks; i++)
        {
            using EndpointLease lease = _leastRequestRamping.Lease();
            last = lease.Endpoint;
        }

        return last;
    }

    [Benchmark(OperationsPerInvoke = Picks, Description = "Subset(10)")]
    [BenchmarkCategory(Single)]
    public PodEndpoint Subset()
    {
        PodEndpoint last = null!;
        for (int i = 0; i < Picks; i++)
        {
            last = _subset.Pick();
        }

        return last;
    }

    // ---- 2 threads: a second thread runs the same pick for the whole run of the benchmark ----

    [GlobalSetup(Target = nameof(FloorContended))]
    public Task SetupFloorContended() => SetupContended(() => FloorPick());

    [GlobalSetup(Target = nameof(MeSdRoundRobinContended))]
    public Task SetupMeSdContended() => SetupContended(() => _meSd.Pick(null));

    [GlobalSetup(Target = nameof(RoundRobinContended))]
    public Task SetupRoundRobinContended() => SetupContended(() => _roundRobin.Pick());

    [GlobalSetup(Target = nameof(RandomContended))]
    public Task SetupRandomContended() => SetupContended(() => _random.Pick());

    [GlobalSetup(Target = nameof(LeastRequest2LeaseContended))]
    public Task SetupLeastRequest2LeaseContended() => SetupContended(() => LeaseOnce());

    [GlobalSetup(Target = nameof(LeastRequest2Contended))]
    public Task SetupLeastRequest2Contended() => SetupContended(() => _leastRequest2.Pick());

    [GlobalSetup(Target = nameof(ConsistentHashContended))]
    public Task SetupHashContended() => SetupContended(() => _hash.Pick(_keyHash));

    [GlobalSetup(Target = nameof(OrdinalContended))]
    public Task SetupOrdinalContended() => SetupContended(() => _ordinal.Pick());

    [GlobalSetup(Target = nameof(PickFirstContended))]
    public Task SetupPickFirstContended() => SetupContended(() => _pickFirst.Pick());

    [GlobalSetup(Target = nameof(SubsetContended))]
    public Task SetupSubsetContended() => SetupContended(() => _subset.Pick());

    private async Task SetupContended(Action pick)
    {
        await Setup();
        _contention = new Contention(pick);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Picks, Description = "Floor: Interlocked.Increment + index")]
    [BenchmarkCategory(Contended)]
    public PodEndpoint FloorContended()
    {
        PodEndpoint last = null!;
        for (int i = 0; i < Picks; i++)
        {
            last = FloorPick();
        }

        return last;
    }

    [Benchmark(OperationsPerInvoke = Picks, Description = "Peer: ME.SD RoundRobinServiceEndpointSelector")]
    [BenchmarkCategory(Contended)]
    public ServiceEndpoint MeSdRoundRobinContended()
    {
        ServiceEndpoint last = null!;
        for (int i = 0; i < Picks; i++)
        {
            last = _meSd.Pick(null);
        }

        return last;
    }

    [Benchmark(OperationsPerInvoke = Picks, Description = "RoundRobin")]
    [BenchmarkCategory(Contended)]
    public PodEndpoint RoundRobinContended()
    {
        PodEndpoint last = null!;
        for (int i = 0; i < Picks; i++)
        {
            last = _roundRobin.Pick();
        }

        return last;
    }

    [Benchmark(OperationsPerInvoke = Picks, Description = "Random")]
    [BenchmarkCategory(Contended)]
    public PodEndpoint RandomContended()
    {
        PodEndpoint last = null!;
        for (int i = 0; i < Picks; i++)
        {
            last = _random.Pick();
        }

        return last;
    }

    [Benchmark(OperationsPerInvoke = Picks, Description = "LeastRequest(2) (pick)")]
    [BenchmarkCategory(Contended)]
    public PodEndpoint LeastRequest2Contended()
    {
        PodEndpoint last = null!;
        for (int i = 0; i < Picks; i++)
        {
            last = _leastRequest2.Pick();
        }

        return last;
    }

    [Benchmark(OperationsPerInvoke = Picks, Description = "LeastRequest(2) (lease + dispose)")]
    [BenchmarkCategory(Contended)]
    public PodEndpoint LeastRequest2LeaseContended()
    {
        PodEndpoint last = null!;
        for (int i = 0; i < Picks; i++)
        {
            last = LeaseOnce();
        }

        return last;
    }

    [Benchmark(OperationsPerInvoke = Picks, Description = "ConsistentHash (key hash)")]
    [BenchmarkCategory(Contended)]
    public PodEndpoint ConsistentHashContended()
    {
        PodEndpoint last = null!;
        for (int i = 0; i < Picks; i++)
        {
            last = _hash.Pick(_keyHash);
        }

        return last;
    }

    [Benchmark(OperationsPerInvoke = Picks, Description = "Ordinal (last ordinal)")]
    [BenchmarkCategory(Contended)]
    public PodEndpoint OrdinalContended()
    {
        PodEndpoint last = null!;
        for (int i = 0; i < Picks; i++)
        {
            last = _ordinal.Pick();
        }

        return last;
    }

    [Benchmark(OperationsPerInvoke = Picks, Description = "PickFirst")]
    [BenchmarkCategory(Contended)]
    public PodEndpoint PickFirstContended()
    {
        PodEndpoint last = null!;
        for (int i = 0; i < Picks; i++)
        {
            last = _pickFirst.Pick();
        }

        return last;
    }

    [Benchmark(OperationsPerInvoke = Picks, Description = "Subset(10)")]
    [BenchmarkCategory(Contended)]
    public PodEndpoint SubsetContended()
    {
        PodEndpoint last = null!;
        for (int i = 0; i < Picks; i++)
        {
            last = _subset.Pick();
        }

        return last;
    }
}
