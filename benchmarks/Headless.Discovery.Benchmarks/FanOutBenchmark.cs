using BenchmarkDotNet.Attributes;
using Headless.Discovery.Testing;

namespace Headless.Discovery.Benchmarks;

/// <summary>
/// Calling every pod with a no-op operation (a synchronously completed <see cref="ValueTask{T}"/>), so what is measured
/// is the fan-out machinery itself: the baseline starts the operation on every pod and awaits
/// <see cref="Task.WhenAll(Task[])"/>; ours is <see cref="HeadlessServiceFanOutExtensions.FanOutAsync"/> in each mode,
/// which adds per-pod results, latency, cancellation, the completion rule and outcome reporting, and runs every call on the
/// thread pool (never on the caller's thread); the "Task.Run per pod" row is the floor for that. Parallelism is set to
/// the pod count so neither side is throttled.
/// </summary>
[MemoryDiagnoser]
public class FanOutBenchmark
{
    private static readonly Func<PodEndpoint, CancellationToken, ValueTask<int>> NoOp = static (_, _) => new ValueTask<int>(1);

    private HeadlessService _service = null!;
    private PodEndpoint[] _endpoints = null!;
    private FanOutOptions _all = null!;
    private FanOutOptions _quorum = null!;
    private FanOutOptions _first = null!;

    [Params(3, 100)]
    public int Endpoints { get; set; }

    [GlobalSetup]
    public async Task Setup()
    {
        _service = new HeadlessService(Fixtures.Service, new ScriptedResolver(Fixtures.Endpoints(Endpoints)), Fixtures.QuietOptions());
        EndpointSet set = await _service.RefreshAsync();
        _endpoints = [.. set.Endpoints];
        _all = new FanOutOptions { Mode = FanOutMode.All, MaxParallelism = Endpoints };
        _quorum = new FanOutOptions { Mode = FanOutMode.Quorum((Endpoints / 2) + 1), MaxParallelism = Endpoints };
        _first = new FanOutOptions { Mode = FanOutMode.FirstSuccess(), MaxParallelism = Endpoints };

        FanOutResult<int> result = await _service.FanOutAsync(NoOp, _all);
        if (result.Succeeded != Endpoints || !result.GoalMet)
        {
            throw new InvalidOperationException($"Fan-out did not reach every pod: {result}.");
        }
    }

    [GlobalCleanup]
    public async Task Cleanup() => await _service.DisposeAsync();

    [Benchmark(Baseline = true, Description = "Task.WhenAll over the pods")]
    public async Task<int> WhenAll()
    {
        PodEndpoint[] endpoints = _endpoints;
        var tasks = new Task<int>[endpoints.Length];
        for (int i = 0; i < endpoints.Length; i++)
        {
            tasks[i] = NoOp(endpoints[i], CancellationToken.None).AsTask();
        }

        int[] values = await Task.WhenAll(tasks);
        return values.Length;
    }

    /// <summary>
    /// The floor for keeping every call off the caller's thread, as one would by hand: each pod's call queued to the
    /// thread pool, then <see cref="Task.WhenAll(Task[])"/>. FanOutAsync does the same (it never runs an operation on the
    /// caller's thread), so the difference to this row is its own bookkeeping.
    /// </summary>
    [Benchmark(Description = "Task.Run per pod + Task.WhenAll")]
    public async Task<int> WhenAllOnThreadPool()
    {
        PodEndpoint[] endpoints = _endpoints;
        var tasks = new Task<int>[endpoints.Length];
        for (int i = 0; i < endpoints.Length; i++)
        {
            PodEndpoint endpoint = endpoints[i];
            tasks[i] = Task.Run(() => NoOp(endpoint, CancellationToken.None).AsTask());
        }

        int[] values = await Task.WhenAll(tasks);
        return values.Length;
    }

    [Benchmark(Description = "FanOutAsync All")]
    public async Task<int> All() => (await _service.FanOutAsync(NoOp, _all)).Succeeded;

    [Benchmark(Description = "FanOutAsync Quorum(n/2+1)")]
    public async Task<int> Quorum() => (await _service.FanOutAsync(NoOp, _quorum)).Succeeded;

    [Benchmark(Description = "FanOutAsync FirstSuccess")]
    public async Task<int> FirstSuccess() => (await _service.FanOutAsync(NoOp, _first)).Succeeded;
}
