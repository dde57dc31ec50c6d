using System.Collections.Immutable;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Headless.Discovery.Testing;

namespace Headless.Discovery.Benchmarks;

/// <summary>
/// The refresh loop's own cost, DNS excluded (the resolver hands back a prebuilt answer; DNS is ResolutionBenchmark's):
/// a refresh whose answer did not change must publish nothing and allocate nothing, so its floor is the membership
/// comparison it cannot avoid; and the diff of two snapshots with 1 % churn (0.5 % removed, 0.5 % added) through
/// <see cref="EndpointSetChange.Compute"/>, against the obvious peer, a <see cref="HashSet{T}"/> difference.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class RefreshBenchmark
{
    private HeadlessService _service = null!;
    private ImmutableArray<PodEndpoint> _published;
    private ImmutableArray<PodEndpoint> _answer;
    private long _version;
    private EndpointSet _before = null!;
    private EndpointSet _after = null!;

    [Params(10, 1000, 10000)]
    public int Endpoints { get; set; }

    [GlobalSetup]
    public async Task Setup()
    {
        PodEndpoint[] endpoints = Fixtures.Endpoints(Endpoints);
        var resolver = new ScriptedResolver(endpoints);
        _service = new HeadlessService(Fixtures.Service, resolver, Fixtures.QuietOptions());
        EndpointSet first = await _service.RefreshAsync();
        _published = first.Endpoints;
        _version = first.Version;

        // The next answers are equal but not the same instances: a fresh DNS answer parses into new objects.
        resolver.Fallback = ResolutionResult.Success(Fixtures.Endpoints(Endpoints), TimeSpan.FromSeconds(5));
        _answer = resolver.Fallback.Endpoints;
        EndpointSet second = await _service.RefreshAsync();
        if (!ReferenceEquals(first, second))
        {
            throw new InvalidOperationException("An unchanged refresh published a new snapshot.");
        }

        // 1 % churn: the first half-percent of pods leave, as many new ones join (at least one each way).
        int churn = Math.Max(1, Endpoints / 200);
        _before = Fixtures.Set(endpoints, 1);
        _after = Fixtures.Set(endpoints.Skip(churn).Concat(Fixtures.Endpoints(churn, offset: Endpoints)), 2);
        EndpointSetChange change = EndpointSetChange.Compute(_before, _after);
        if (change.Added.Length != churn || change.Removed.Length != churn)
        {
            throw new InvalidOperationException($"Expected +{churn} -{churn}, got {change}.");
        }
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        if (_service.Current.Version != _version)
        {
            throw new InvalidOperationException("Unchanged refreshes published a new snapshot during the run.");
        }

        await _service.DisposeAsync();
    }

    // ---- unchanged refresh ----

    /// <summary>The floor: the element-wise comparison of the answer with the published membership.</summary>
    [Benchmark(Baseline = true, Description = "Floor: compare answer with published set")]
    [BenchmarkCategory("Unchanged")]
    public bool CompareOnly() => EndpointSetChange.SameMembers(_published, _answer);

    [Benchmark(Description = "HeadlessService.RefreshAsync (answer unchanged)")]
    [BenchmarkCategory("Unchanged")]
    public EndpointSet UnchangedRefresh()
    {
        ValueTask<EndpointSet> task = _service.RefreshAsync();
        return task.IsCompletedSuccessfully ? task.Result : task.AsTask().GetAwaiter().GetResult();
    }

    // ---- diff ----

    /// <summary>The peer: what a straightforward implementation does, two hash-set differences.</summary>
    [Benchmark(Baseline = true, Description = "Peer: HashSet difference")]
    [BenchmarkCategory("Diff 1%")]
    public int HashSetDiff()
    {
        var before = new HashSet<PodEndpoint>(_before.Endpoints);
        var after = new HashSet<PodEndpoint>(_after.Endpoints);
        int added = 0;
        int removed = 0;
        foreach (PodEndpoint endpoint in _after.Endpoints)
        {
            added += before.Contains(endpoint) ? 0 : 1;
        }

        foreach (PodEndpoint endpoint in _before.Endpoints)
        {
            removed += after.Contains(endpoint) ? 0 : 1;
        }

        return added + removed;
    }

    [Benchmark(Description = "EndpointSetChange.Compute (sorted merge)")]
    [BenchmarkCategory("Diff 1%")]
    public EndpointSetChange Compute() => EndpointSetChange.Compute(_before, _after);
}
