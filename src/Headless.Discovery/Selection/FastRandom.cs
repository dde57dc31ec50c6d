using System.Runtime.CompilerServices;

namespace Headless.Discovery;

/// <summary>
/// Lock-free random numbers for the pick path. Unseeded: a per-thread xorshift state (no sharing, no atomics).
/// Seeded: SplitMix64 over one atomically advanced counter, so a single-threaded sequence is reproducible.
/// Not for security.
/// </summary>
internal sealed class FastRandom
{
    [ThreadStatic]
    private static ulong t_state;

    private readonly bool _seeded;
    private long _counter;

    internal FastRandom(int? seed)
    {
        _seeded = seed.HasValue;
        _counter = seed.GetValueOrDefault();
    }

    /// <summary>A number in [0, <paramref name="n"/>); <paramref name="n"/> must be positive.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int Next(int n) => (int)(((ulong)NextUInt32() * (uint)n) >> 32);

    /// <summary>A number in [0, 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal double NextDouble() => NextUInt32() * (1.0 / 4294967296.0);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal uint NextUInt32() => _seeded ? (uint)(Mix((ulong)Interlocked.Add(ref _counter, unchecked((long)0x9E3779B97F4A7C15UL))) >> 32) : NextThreadLocal();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint NextThreadLocal()
    {
        ulong x = t_state;
        if (x == 0)
        {
            x = SeedThread();
        }

        // xorshift64*
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        t_state = x;
        return (uint)((x * 0x2545F4914F6CDD1DUL) >> 32);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ulong SeedThread()
    {
#pragma warning disable CA5394 // Load spreading, not security.
        ulong seed = (ulong)Random.Shared.NextInt64() | 1;
#pragma warning restore CA5394
        t_state = seed;
        return seed;
    }

    /// <summary>SplitMix64's finalizer: a good 64-bit mix.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
