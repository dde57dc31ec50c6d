using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Headless.Discovery;

/// <summary>
/// Striped position counters: each thread advances the stripe its managed thread id maps to, so threads on different
/// cores do not fight over one cache line. One thread alone sees an exact rotation.
/// </summary>
internal sealed class StripedCursor
{
    private readonly PaddedInt[] _stripes;
    private readonly int _mask;

    internal StripedCursor(int? seed)
    {
        int count = (int)Math.Min(64u, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Environment.ProcessorCount * 2));
        _stripes = new PaddedInt[count];
        _mask = count - 1;
        var random = new FastRandom(seed);
        for (int i = 1; i < count; i++)
        {
            // Threads start at different places so that they do not all open on the first pod.
            _stripes[i].Value = random.Next(int.MaxValue);
        }
    }

    /// <summary>The next index in [0, <paramref name="length"/>); <paramref name="length"/> must be positive.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int Next(int length)
    {
        ref int slot = ref _stripes[Environment.CurrentManagedThreadId & _mask].Value;
        // Plain, not interlocked: a thread owns its stripe unless ids collide, and then two picks may land on the
        // same pod (approximate fairness) rather than paying a locked instruction on every pick.
        int i = slot;
        if ((uint)i >= (uint)length)
        {
            // A full turn, a set that shrank, or a stripe's random start.
            i = (int)((uint)i % (uint)length);
        }

        slot = i + 1;
        return i;
    }

    [StructLayout(LayoutKind.Explicit, Size = 128)]
    private struct PaddedInt
    {
        // In the middle of 128 bytes, so that neighbouring stripes never share a cache line (or an adjacent-line prefetch pair).
        [FieldOffset(64)]
        public int Value;
    }
}

/// <summary>Round robin over the available pods. Exact rotation for a single thread; approximately even under concurrency.</summary>
internal sealed class RoundRobinSelector : EndpointSelectorBase
{
    private readonly StripedCursor _cursor;

    internal RoundRobinSelector(IHeadlessService service, int? seed = null)
        : base(service)
    {
        _cursor = new StripedCursor(seed);
    }

    protected override PodEndpoint? Choose(out LeaseTracker? tracker)
    {
        tracker = null;
        PodEndpoint[] available = AvailableOf(Service.Current);
        return available.Length != 0 ? available[_cursor.Next(available.Length)] : null;
    }
}

/// <summary>Uniformly random among the available pods.</summary>
internal sealed class RandomSelector : EndpointSelectorBase
{
    private readonly FastRandom _random;

    internal RandomSelector(IHeadlessService service, int? seed)
        : base(service)
    {
        _random = new FastRandom(seed);
    }

    protected override PodEndpoint? Choose(out LeaseTracker? tracker)
    {
        tracker = null;
        PodEndpoint[] available = AvailableOf(Service.Current);
        return available.Length != 0 ? available[_random.Next(available.Length)] : null;
    }
}
