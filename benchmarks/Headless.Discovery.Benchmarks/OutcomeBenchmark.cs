using BenchmarkDotNet.Attributes;
using Headless.Discovery.Testing;

namespace Headless.Discovery.Benchmarks;

/// <summary>
/// The reporting path of passive health: <see cref="IHeadlessService.ReportOutcome"/> of a success, with outlier
/// detection by success rate on (the default: each outcome is also counted per pod) and off, against the floor of one
/// <see cref="Interlocked.Increment(ref long)"/>. No lock, no allocation.
/// </summary>
[MemoryDiagnoser]
public class OutcomeBenchmark
{
    private const int Reports = 64;

    private HeadlessService _judged = null!;
    private HeadlessService _streakOnly = null!;
    private PodEndpoint _pod = null!;
    private long _floor;

    [Params(3, 100, 1000)]
    public int Endpoints { get; set; }

    [GlobalSetup]
    public async Task Setup()
    {
        PodEndpoint[] pods = Fixtures.StatefulEndpoints(Endpoints);
        _judged = new HeadlessService(Fixtures.Service, new ScriptedResolver(pods), Fixtures.QuietOptions());
        HeadlessServiceOptions streakOnly = Fixtures.QuietOptions();
        streakOnly.PassiveHealth.SuccessRateStdevFactor = null;
        _streakOnly = new HeadlessService(Fixtures.Service, new ScriptedResolver(pods), streakOnly);
        EndpointSet set = await _judged.RefreshAsync();
        await _streakOnly.RefreshAsync();
        _pod = set.Endpoints[Endpoints / 2];
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await _judged.DisposeAsync();
        await _streakOnly.DisposeAsync();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Reports, Description = "Floor: Interlocked.Increment")]
    public long Floor()
    {
        long last = 0;
        for (int i = 0; i < Reports; i++)
        {
            last = Interlocked.Increment(ref _floor);
        }

        return last;
    }

    [Benchmark(OperationsPerInvoke = Reports, Description = "ReportOutcome(success), success-rate rule on")]
    public void ReportSuccessJudged()
    {
        for (int i = 0; i < Reports; i++)
        {
            _judged.ReportOutcome(_pod, succeeded: true);
        }
    }

    [Benchmark(OperationsPerInvoke = Reports, Description = "ReportOutcome(success), consecutive failures only")]
    public void ReportSuccessStreakOnly()
    {
        for (int i = 0; i < Reports; i++)
        {
            _streakOnly.ReportOutcome(_pod, succeeded: true);
        }
    }
}
