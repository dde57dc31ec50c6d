namespace Headless.Discovery.Benchmarks;

/// <summary>
/// The baseline for <see cref="MaglevBenchmark"/>: Maglev's table population exactly as the paper gives it (Eisenbud
/// et al., "Maglev: A Fast and Reliable Software Network Load Balancer", NSDI 2016, section 3.4 and pseudocode 1),
/// written plainly. Each backend's permutation is <c>(offset + j × skip) mod M</c> with <c>offset = h1 mod M</c>,
/// <c>skip = h2 mod (M − 1) + 1</c> and M prime; entries start at −1; backends take turns claiming the next entry of
/// their permutation that is still −1.
/// </summary>
/// <remarks>
/// The paper's text precomputes the whole N × M permutation table; that would allocate 262 MB at 1 000 backends and
/// 65 537 entries, so permutation entries are computed when needed, as Envoy does. The two hashes are the two halves of
/// the pod's 64-bit identity hash, as in the library before the table changed.
/// </remarks>
internal static class TextbookMaglev
{
    public static int[] Populate(ReadOnlySpan<ulong> podKeys, int m)
    {
        int n = podKeys.Length;
        var offset = new long[n];
        var skip = new long[n];
        for (int i = 0; i < n; i++)
        {
            offset[i] = (long)((podKeys[i] >> 32) % (ulong)m);
            skip[i] = (long)((uint)podKeys[i] % (ulong)(m - 1)) + 1;
        }

        var next = new long[n];
        var entry = new int[m];
        Array.Fill(entry, -1);
        int filled = 0;
        while (true)
        {
            for (int i = 0; i < n; i++)
            {
                long c = (offset[i] + (next[i] * skip[i])) % m;
                while (entry[c] >= 0)
                {
                    next[i]++;
                    c = (offset[i] + (next[i] * skip[i])) % m;
                }

                entry[c] = i;
                next[i]++;
                filled++;
                if (filled == m)
                {
                    return entry;
                }
            }
        }
    }
}
