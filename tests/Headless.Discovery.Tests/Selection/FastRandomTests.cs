using CsCheck;
using Headless.Discovery;
using Headless.Discovery.TestSupport;

namespace Headless.Discovery.Tests.Selection;

/// <summary>
/// The random source of the random, power-of-two-choices and pick-first selectors: always in range, uniform, reproducible
/// when seeded, and independent per thread when not.
/// </summary>
public sealed class FastRandomTests
{
    [Fact]
    public void Next_is_in_range_for_every_bound_seeded_or_not()
    {
        Gen<(int N, int? Seed)> cases = Gen.Select(
            Gen.Frequency((1, Gen.OneOf(1, 2, 3, int.MaxValue - 1, int.MaxValue)), (3, Gen.Int[1, int.MaxValue])),
            Gen.Frequency((1, Gen.Const((int?)null)), (2, Gen.Int.Select(s => (int?)s))));
        Property.ForAll(
            cases,
            iterations: 500,
            seed: 0x10_05_0003UL,
            c =>
            {
                var random = new FastRandom(c.Seed);
                for (int i = 0; i < 64; i++)
                {
                    Assert.InRange(random.Next(c.N), 0, c.N - 1);
                }
            },
            print: c => $"n = {c.N}, seed {c.Seed?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}");
    }

    [Theory]
    [InlineData(42)]
    [InlineData(null)]
    public void Next_is_uniform_within_statistical_bounds_for_small_and_huge_bounds(int? seed)
    {
        const int Draws = 100_000;
        var random = new FastRandom(seed);

        var small = new int[10];
        var halves = new int[2];
        for (int i = 0; i < Draws; i++)
        {
            small[random.Next(10)]++;

            // Whether the value lands in the upper half of a huge range depends on the high bits.
            halves[random.Next(int.MaxValue) >= int.MaxValue / 2 ? 1 : 0]++;
        }

        // Chi-square with 9 degrees of freedom beyond 50 has p < 1e-6 (an unseeded run must not flake).
        Assert.True(ChiSquare(small, Draws / 10.0) < 50, $"counts {string.Join(", ", small)}");

        // Binomial sigma ~158: 5 sigma.
        Assert.InRange(halves[1], (Draws / 2) - 800, (Draws / 2) + 800);
    }

    [Theory]
    [InlineData(7)]
    [InlineData(null)]
    public void Every_bit_of_a_32_bit_draw_is_set_about_half_the_time(int? seed)
    {
        const int Draws = 50_000;
        var random = new FastRandom(seed);
        var ones = new int[32];
        for (int i = 0; i < Draws; i++)
        {
            uint x = random.NextUInt32();
            for (int bit = 0; bit < 32; bit++)
            {
                ones[bit] += (int)((x >> bit) & 1);
            }
        }

        // Binomial sigma ~112: 6 sigma, over 32 bits.
        Assert.All(ones, n => Assert.InRange(n, (Draws / 2) - 670, (Draws / 2) + 670));
    }

    [Fact]
    public void A_seeded_sequence_is_reproducible_and_another_seed_gives_another()
    {
        Property.ForAll(
            Gen.Int,
            iterations: 100,
            seed: 0x10_05_0004UL,
            seed =>
            {
                uint[] a = Draw(new FastRandom(seed), 32);
                Assert.Equal(a, Draw(new FastRandom(seed), 32));
                Assert.NotEqual(a, Draw(new FastRandom(unchecked(seed + 1)), 32));
            });
    }

    [Fact]
    public void Unseeded_sources_on_fresh_threads_draw_independent_sequences()
    {
        // Each thread seeds its own state at random: two threads (and two unseeded sources) do not repeat each other.
        // Two independent sets of 100 uniform 32-bit values share one (or repeat one) by chance with probability below 1e-5.
        uint[] first = [], second = [];
        var a = new Thread(() => first = Draw(new FastRandom(null), 100));
        var b = new Thread(() => second = Draw(new FastRandom(null), 100));
        a.Start();
        b.Start();
        a.Join();
        b.Join();

        Assert.Empty(first.Intersect(second));
        Assert.Equal(100, first.Distinct().Count());
    }

    private static uint[] Draw(FastRandom random, int count) => [.. Enumerable.Range(0, count).Select(_ => random.NextUInt32())];

    private static double ChiSquare(IEnumerable<int> observed, double expected) =>
        observed.Sum(o => (o - expected) * (o - expected) / expected);
}
