using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Headless.Discovery;

/// <summary>
/// Maglev lookup-table population (Eisenbud et al., NSDI 2016, pseudocode 1): pods take turns, each claiming the next
/// free slot in its own preference order, until every slot is taken. Pure and deterministic: the same pod keys in the
/// same order give the same table in every process.
/// </summary>
/// <remarks>
/// <para>
/// Three departures from the paper, all for one promise (one of N pods in or out moves about 1/N of the keys):
/// </para>
/// <list type="bullet">
/// <item>
/// The table size does not follow the pod count. It is <see cref="MinSize"/> = 2^17 up to 2 048 pods, and grows (to
/// 2^19, then <see cref="MaxSize"/> = 2^20) only when a pod would get fewer than <see cref="MinSlotsPerPod"/> slots. A
/// table of another size maps nearly every key elsewhere, so a size that followed the count (the first prime above
/// 100 × N, before) moved almost all keys on every membership or health change.
/// </item>
/// <item>
/// 2^17 rather than Envoy's 65 537: the keys of the pods that stay move less in a bigger table, and at 65 536 slots a
/// pod leaving one of about 400 moved up to 1.07 % of them, which with its own 1/N came within 0.02 points of the
/// 1.5/N + 1 % budget; at 2^17 the worst of 1 000 generated cases (2 to 2 048 pods, 20 000 keys) moved 0.85 %, and
/// the total stayed 0.22 points under the budget.
/// </item>
/// <item>
/// Each pod's preference order is a keyed pseudo-random permutation of the slots (<see cref="Permutation"/>) instead of
/// the paper's arithmetic progression <c>(offset + j × skip) mod M</c>. Progressions of two pods are correlated when
/// their skips are in a small ratio, and then one pod leaving reshuffles the others' slots: in a simulation with the
/// paper's permutation about 1 in 1 000 random 3-pod sets moved more than 2 % of the keys of the pods that stayed, with
/// this one the worst of 10 000 moved 0.44 %. Two rounds were not enough (up to 7.7 % in the same simulation).
/// </item>
/// </list>
/// <para>
/// Every slot is taken exactly once and the pods take turns, so each pod owns ⌊size/N⌋ or ⌈size/N⌉ slots. Occupancy is
/// a bitmap (16 KB at 2^17 slots, in L1), so the probe loop touches the table only to write the winner, and the last
/// √size slots are found through the inverse permutations instead of long walks (see <see cref="Populate"/>).
/// </para>
/// </remarks>
internal static class MaglevTable
{
    /// <summary>The smallest table size, used up to 2 048 pods.</summary>
    internal const int MinSize = 1 << 17;

    /// <summary>The largest table size (4 MB of slot indexes), used above 8 192 pods.</summary>
    internal const int MaxSize = 1 << 20;

    /// <summary>The table grows when a pod would get fewer slots than this.</summary>
    internal const int MinSlotsPerPod = 64;

    private const uint C1 = 0x2C1B3C6Du;
    private const uint C2 = 0x297A2D39u;
    private const uint C3 = 0x7FEB352Du;
    private static readonly uint C1Inverse = InverseOf(C1);
    private static readonly uint C2Inverse = InverseOf(C2);
    private static readonly uint C3Inverse = InverseOf(C3);

    /// <summary>
    /// The table size for a service of <paramref name="podCount"/> pods: 131 072 up to 2 048 pods, 524 288 up to
    /// 8 192, 1 048 576 above.
    /// </summary>
    internal static int SizeFor(int podCount)
    {
        int size = MinSize;
        while (size < MaxSize && (long)podCount * MinSlotsPerPod > size)
        {
            size = Math.Min(size << 2, MaxSize);
        }

        return size;
    }

    /// <summary>Fills a table of <paramref name="size"/> slots (a power of two) with indexes into <paramref name="podKeys"/>.</summary>
    /// <param name="podKeys">Each pod's 64-bit identity hash, in the order every client sees (sorted pods).</param>
    /// <param name="size">The table size, a power of two from 2 to 2^30.</param>
    /// <returns>The table; empty when there are no pods.</returns>
    internal static int[] Populate(ReadOnlySpan<ulong> podKeys, int size)
    {
        int n = podKeys.Length;
        if (n == 0)
        {
            return [];
        }

        if (!BitOperations.IsPow2(size) || size is < 2 or > 1 << 30)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, "The table size must be a power of two from 2 to 2^30.");
        }

        var permutation = new Permutation(size);

        // Every slot is written exactly once below, so the table needs no zeroing.
        int[] table = GC.AllocateUninitializedArray<int>(size);
        ulong[] taken = new ulong[Math.Max(1, size >> 6)];
        uint[] next = new uint[n];
        ref ulong takenRef = ref MemoryMarshal.GetArrayDataReference(taken);
        ref int tableRef = ref MemoryMarshal.GetArrayDataReference(table);

        // Walking a pod's permutation costs size/free probes per claim, scanning the free slots costs one inverse per
        // free slot: the walk is cheaper until about √size slots are left.
        int endgame = Math.Max(1, (int)Math.Sqrt(size));
        int filled = 0;
        while (size - filled > endgame)
        {
            for (int i = 0; i < n && size - filled > endgame; i++)
            {
                ulong key = podKeys[i];
                uint j = next[i];
                uint c;

                // Terminates: every slot this pod has visited is taken, a free slot exists, and the pod's permutation
                // reaches every slot, so a free one comes before j runs out. The index is masked, so in bounds.
                do
                {
                    c = permutation.Slot(j++, key);
                }
                while ((Unsafe.Add(ref takenRef, (int)(c >> 6)) & (1UL << (int)c)) != 0);

                next[i] = j;
                Unsafe.Add(ref takenRef, (int)(c >> 6)) |= 1UL << (int)c;
                Unsafe.Add(ref tableRef, (int)c) = i;
                filled++;
            }
        }

        FillEndgame(podKeys, table, taken, size - filled, permutation);
        return table;
    }

    /// <summary>
    /// Claims the last <paramref name="free"/> slots exactly as the walk would: the next slot a pod takes is the free
    /// slot that comes first in its permutation (every slot before its position is taken), found through the inverse.
    /// </summary>
    private static void FillEndgame(ReadOnlySpan<ulong> podKeys, int[] table, ulong[] taken, int free, Permutation permutation)
    {
        var slots = new uint[free];
        int count = 0;
        for (uint c = 0; c < (uint)table.Length; c++)
        {
            if ((taken[c >> 6] & (1UL << (int)c)) == 0)
            {
                slots[count++] = c;
            }
        }

        // The walk's pod order continues where it stopped: the pod after the last one that claimed a slot.
        int n = podKeys.Length;
        int start = (table.Length - free) % n;
        for (int turn = 0; count > 0; turn++)
        {
            int i = (start + turn) % n;
            ulong key = podKeys[i];
            int best = 0;
            uint bestJ = permutation.Position(slots[0], key);
            for (int f = 1; f < count; f++)
            {
                uint j = permutation.Position(slots[f], key);
                if (j < bestJ)
                {
                    bestJ = j;
                    best = f;
                }
            }

            table[slots[best]] = i;
            slots[best] = slots[--count];
        }
    }

    /// <summary>
    /// Each pod's preference order: a keyed bijection of [0, size). Xor with a key, multiplication by an odd constant
    /// (mod 2^bits) and a right xorshift are each invertible on [0, 2^bits); three rounds with different key bits
    /// decorrelate the permutations of different pods.
    /// </summary>
    internal readonly struct Permutation
    {
        private readonly uint _mask;
        private readonly int _shift;

        public Permutation(int size)
        {
            _mask = (uint)size - 1;

            // At least half the bits, so that one more xorshift undoes one (see UndoXorShift).
            _shift = Math.Max(1, (BitOperations.Log2((uint)size) + 1) / 2);
        }

        /// <summary>The slot at position <paramref name="j"/> of the pod keyed <paramref name="key"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public uint Slot(uint j, ulong key)
        {
            uint mask = _mask;
            int shift = _shift;
            uint x = ((j ^ (uint)key) * C1) & mask;
            x ^= x >> shift;
            x = ((x ^ (uint)(key >> 21)) * C2) & mask;
            x ^= x >> shift;
            x = ((x ^ (uint)(key >> 42)) * C3) & mask;
            return x ^ (x >> shift);
        }

        /// <summary>The position of <paramref name="slot"/> in the pod's order: the inverse of <see cref="Slot"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public uint Position(uint slot, ulong key)
        {
            uint mask = _mask;
            uint x = ((UndoXorShift(slot) * C3Inverse) & mask) ^ ((uint)(key >> 42) & mask);
            x = ((UndoXorShift(x) * C2Inverse) & mask) ^ ((uint)(key >> 21) & mask);
            return ((UndoXorShift(x) * C1Inverse) & mask) ^ ((uint)key & mask);
        }

        // y = x ^ (x >> s) gives x = y ^ (y >> s) ^ (y >> 2s) ^ ..., and y >> 2s is 0 because 2s >= bits.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private uint UndoXorShift(uint y) => y ^ (y >> _shift);
    }

    /// <summary>The inverse of an odd <paramref name="c"/> modulo 2^32 (Newton's iteration doubles the correct bits).</summary>
    private static uint InverseOf(uint c)
    {
        uint inverse = c;
        for (int i = 0; i < 5; i++)
        {
            inverse *= 2 - (c * inverse);
        }

        return inverse;
    }
}
