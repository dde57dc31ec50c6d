using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace Headless.Discovery.Benchmarks;

/// <summary>
/// Building a consistent-hash lookup table for 10, 100 and 1 000 pods: what the first pick after a snapshot change pays.
/// The baseline is Maglev's textbook population (<see cref="TextbookMaglev"/>) at a prime size next to ours; ours is
/// <see cref="MaglevTable.Populate"/> (keyed pseudo-random permutations, a bitmap of taken slots, and the last √M slots
/// found through the inverse permutations). "65 536 slots" compares the two at Envoy's size; "131 072 slots" is our
/// default size (up to 2 048 pods). Envoy publishes 2.2–2.7 ms for 100–500 hosts at 65 537 slots.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)]
[CategoriesColumn]
public class MaglevBenchmark
{
    private const string Envoy = "65 536 slots";
    private const string Default = "131 072 slots";

    private ulong[] _keys = null!;

    [Params(10, 100, 1000)]
    public int Pods { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _keys = [.. Fixtures.StatefulEndpoints(Pods).Order().Select(StableHash.Of)];

        // Both fill every slot, and each pod owns its floor or ceiling share.
        foreach (int[] table in new[] { TextbookMaglev.Populate(_keys, 65_537), MaglevTable.Populate(_keys, MaglevTable.MinSize) })
        {
            int[] counts = new int[Pods];
            foreach (int pod in table)
            {
                counts[pod]++;
            }

            if (counts.Max() - counts.Min() > 1)
            {
                throw new InvalidOperationException($"Uneven table: {counts.Min()} to {counts.Max()} slots per pod.");
            }
        }

        if (MaglevTable.SizeFor(Pods) != MaglevTable.MinSize)
        {
            throw new InvalidOperationException("The default size changed; update the categories.");
        }
    }

    [Benchmark(Baseline = true, Description = "Textbook Maglev, 65 537 slots")]
    [BenchmarkCategory(Envoy)]
    public int[] TextbookAtEnvoySize() => TextbookMaglev.Populate(_keys, 65_537);

    [Benchmark(Description = "Headless.Discovery, 65 536 slots")]
    [BenchmarkCategory(Envoy)]
    public int[] OursAtEnvoySize() => MaglevTable.Populate(_keys, 65_536);

    [Benchmark(Baseline = true, Description = "Textbook Maglev, 131 071 slots")]
    [BenchmarkCategory(Default)]
    public int[] TextbookAtDefaultSize() => TextbookMaglev.Populate(_keys, 131_071);

    [Benchmark(Description = "Headless.Discovery, 131 072 slots (default)")]
    [BenchmarkCategory(Default)]
    public int[] OursAtDefaultSize() => MaglevTable.Populate(_keys, MaglevTable.MinSize);
}
