using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Microsoft.Extensions.ServiceDiscovery;

namespace Headless.Discovery.Benchmarks;

/// <summary>
/// One pick from a snapshot of N pods. The floor is the least any round robin can do: one
/// <see cref="Interlocked.Increment(ref int)"/> and an array index. The peer is Microsoft.Extensions.ServiceDiscovery's
/// round-robin selector (internal: bound through reflection once, see <see cref="MeSdRoundRobinSelector"/>).
/// "Contended" variants measure the benchmark thread's pick while a second thread picks from the same selector
/// in a tight loop (2 cores: both busy), against the floor under the same contention.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)]
[CategoriesColumn]
public class SelectionBenchmark
{
    private const string Single = "1 thread";
    private const string Contended = "2 threads";

    private PodEndpoint[] _endpoints = null!;
    private int _floorCounter;
    private MeSdRoundRobinSelector _meSd = null!;
    private Contention? _contention;

    [Params(3, 100, 1000)]
    public int Endpoints { get; set; }

    [GlobalSetup]
    public async Task Setup()
    {
        _endpoints = Fixtures.Endpoints(Endpoints);
        _meSd = await MeSdRoundRobinSelector.CreateAsync(Endpoints);
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        _contention?.Dispose();
        _contention = null;
        await _meSd.DisposeAsync();
    }

    // ---- contention: a second thread runs the same pick for the whole run of the contended benchmark ----

    [GlobalSetup(Target = nameof(FloorContended))]
    public async Task SetupFloorContended()
    {
        await Setup();
        _contention = new Contention(() => Floor());
    }

    [GlobalSetup(Target = nameof(MeSdRoundRobinContended))]
    public async Task SetupMeSdContended()
    {
        await Setup();
        _contention = new Contention(() => _meSd.Pick(null));
    }

    // ---- single-threaded ----

    /// <summary>The floor: an interlocked counter and an array index, nothing else.</summary>
    [Benchmark(Baseline = true, Description = "Floor: Interlocked.Increment + index")]
    [BenchmarkCategory(Single)]
    public PodEndpoint Floor()
    {
        PodEndpoint[] endpoints = _endpoints;
        uint next = (uint)Interlocked.Increment(ref _floorCounter);
        return endpoints[(int)(next % (uint)endpoints.Length)];
    }

    [Benchmark(Description = "Peer: ME.SD RoundRobinServiceEndpointSelector")]
    [BenchmarkCategory(Single)]
    public ServiceEndpoint MeSdRoundRobin() => _meSd.Pick(null);

    // ---- contended ----

    [Benchmark(Baseline = true, Description = "Floor: Interlocked.Increment + index")]
    [BenchmarkCategory(Contended)]
    public PodEndpoint FloorContended() => Floor();

    [Benchmark(Description = "Peer: ME.SD RoundRobinServiceEndpointSelector")]
    [BenchmarkCategory(Contended)]
    public ServiceEndpoint MeSdRoundRobinContended() => _meSd.Pick(null);
}
