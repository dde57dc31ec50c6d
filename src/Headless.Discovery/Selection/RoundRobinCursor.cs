using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Headless.Discovery;

/// <summary>
/// A round-robin position that is exact for one caller and cheap for many. Picks advance one shared cursor with a
/// compare-and-swap, so consecutive picks by one caller take consecutive pods whichever threads they run on (an async
/// caller's continuations hop threads). A thread whose swap fails (another caller picked at the same moment) takes its
/// next <see cref="ContendedTurn"/> picks from a stripe of its own instead: threads that pick at the same time stop
/// fighting over the shared cache line, and the rotation is then even over time rather than exact, which is all that
/// concurrent callers can observe anyway. While no thread is on a stripe, a pick reads no thread-local state. Wraps
/// without division; allocates nothing.
/// </summary>
internal sealed class RoundRobinCursor
{
    /// <summary>Picks a thread takes from its stripe after losing a race, before it tries the shared cursor again.</summary>
    internal const int ContendedTurn = 64;

    // The cursor the current thread lost a race on, and how many more picks it takes from its stripe. One cursor per
    // thread: a thread contended on two selectors at once is rare, and then it just tries the shared cursor more often.
    [ThreadStatic]
    private static RoundRobinCursor? t_contended;

    [ThreadStatic]
    private static int t_contendedLeft;

    private readonly PaddedInt[] _stripes;
    private readonly int _mask;

    // Threads now taking picks from their stripes: while none does, a pick needs no thread-local lookup. On a line of
    // its own: it changes once per contended turn, while the fields above are read on every pick.
    private PaddedInt _contendedThreads;
    private PaddedInt _shared;

    internal RoundRobinCursor(int? seed)
    {
        int count = (int)Math.Min(64u, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Environment.ProcessorCount * 2));
        _stripes = new PaddedInt[count];
        _mask = count - 1;
        var random = new FastRandom(seed);

        // Clients start at different pods, so that a fleet started together does not open on the first one.
        _shared.Value = random.Next(int.MaxValue);
        for (int i = 0; i < count; i++)
        {
            _stripes[i].Value = random.Next(int.MaxValue);
        }
    }

    /// <summary>The next index in [0, <paramref name="length"/>); <paramref name="length"/> must be positive.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int Next(int length)
    {
        if (_contendedThreads.Value != 0 && t_contended == this)
        {
            return NextContended(length);
        }

        int current = Volatile.Read(ref _shared.Value);
        int index = (uint)current < (uint)length ? current : Wrap(current, length);
        int next = index + 1 < length ? index + 1 : 0;
        return Interlocked.CompareExchange(ref _shared.Value, next, current) == current ? index : LostRace(length);
    }

    // A set that shrank, or the random start.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int Wrap(int position, int length) => (int)((uint)position % (uint)length);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private int LostRace(int length)
    {
        if (t_contended is { } other)
        {
            // The thread was taking picks from another cursor's stripes: it stops, and this cursor's take over.
            Interlocked.Decrement(ref other._contendedThreads.Value);
        }

        Interlocked.Increment(ref _contendedThreads.Value);
        t_contended = this;
        t_contendedLeft = ContendedTurn;
        return NextContended(length);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private int NextContended(int length)
    {
        if (--t_contendedLeft <= 0)
        {
            t_contended = null;
            Interlocked.Decrement(ref _contendedThreads.Value);
        }

        // Plain, not interlocked: a thread owns its stripe unless ids collide, and then two picks may land on the same
        // pod (approximate fairness) rather than paying a locked instruction on every pick.
        ref int slot = ref _stripes[Environment.CurrentManagedThreadId & _mask].Value;
        int i = slot;
        if ((uint)i >= (uint)length)
        {
            i = Wrap(i, length);
        }

        slot = i + 1;
        return i;
    }

    [StructLayout(LayoutKind.Explicit, Size = 128)]
    private struct PaddedInt
    {
        // In the middle of 128 bytes, so that neighbouring cursors never share a cache line (or an adjacent-line prefetch pair).
        [FieldOffset(64)]
        public int Value;
    }
}
