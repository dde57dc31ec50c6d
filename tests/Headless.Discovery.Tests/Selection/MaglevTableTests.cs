using CsCheck;
using Headless.Discovery.TestSupport;
using Headless.Discovery;

namespace Headless.Discovery.Tests.Selection;

/// <summary>The table population on its own: the permutations it walks, and the shortcut it takes at the end.</summary>
public sealed class MaglevTableTests
{
    /// <summary>Maglev's pseudocode 1 written plainly over the same permutations: each pod in turn takes its next free slot.</summary>
    private static int[] PlainWalk(ulong[] keys, int size)
    {
        var permutation = new MaglevTable.Permutation(size);
        var table = new int[size];
        Array.Fill(table, -1);
        var next = new uint[keys.Length];
        int filled = 0;
        while (true)
        {
            for (int i = 0; i < keys.Length; i++)
            {
                uint c = permutation.Slot(next[i], keys[i]);
                while (table[c] >= 0)
                {
                    next[i]++;
                    c = permutation.Slot(next[i], keys[i]);
                }

                table[c] = i;
                next[i]++;
                if (++filled == size)
                {
                    return table;
                }
            }
        }
    }

    [Fact]
    public void Every_pod_permutation_is_a_bijection_and_position_is_its_inverse()
    {
        Gen<(int Bits, ulong Key)> cases = Gen.Select(Gen.Int[1, 18], Gen.ULong);
        Property.ForAll(
            cases,
            iterations: 60,
            seed: 0x10010004UL,
            c =>
            {
                int size = 1 << c.Bits;
                var permutation = new MaglevTable.Permutation(size);
                var seen = new bool[size];
                for (uint j = 0; j < size; j++)
                {
                    uint slot = permutation.Slot(j, c.Key);
                    Assert.InRange(slot, 0u, (uint)size - 1);
                    Assert.False(seen[slot], $"slot {slot} twice");
                    seen[slot] = true;
                    Assert.Equal(j, permutation.Position(slot, c.Key));
                }
            },
            print: c => $"2^{c.Bits} slots, key {c.Key:X16}");
    }

    [Fact]
    public void The_fast_population_builds_exactly_the_table_of_the_plain_walk()
    {
        Gen<(ulong[] Keys, int Size)> cases =
            from bits in Gen.Int[1, 17]
            from n in Gen.Int[1, Math.Min(1 << bits, 300)]
            from keys in Gen.ULong.Array[n]
            select (keys, 1 << bits);

        Property.ForAll(
            cases,
            iterations: 80,
            seed: 0x10010005UL,
            c => Assert.Equal(PlainWalk(c.Keys, c.Size), MaglevTable.Populate(c.Keys, c.Size)),
            print: c => $"{c.Keys.Length} pods, {c.Size} slots");
    }

    [Theory]
    [InlineData(0, 131_072)]
    [InlineData(2048, 131_072)]
    [InlineData(2049, 524_288)]
    [InlineData(8192, 524_288)]
    [InlineData(8193, 1_048_576)]
    [InlineData(100_000, 1_048_576)]
    public void The_size_grows_only_in_large_steps_keeping_64_slots_per_pod_up_to_16_384_pods(int pods, int size) =>
        Assert.Equal(size, MaglevTable.SizeFor(pods));

    [Fact]
    public void A_size_that_is_not_a_power_of_two_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => MaglevTable.Populate([1UL], 65_537));
        Assert.Empty(MaglevTable.Populate([], 65_537));
    }
}
