using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Headless.Discovery;

/// <summary>
/// A round-robin position that is exact for one caller and cheap for many. A pick reads the position and writes the
/// next one, with no locked instruction: one caller's consecutive picks take consecutive pods whichever threads they
/// run on (an async caller's continuations hop threads, and the hand-over between them orders the write before the next
/// read). Callers that pick at the same moment may read the same position and take the same pod, so the rotation is
/// then even over time rather than exact, which is all that concurrent callers can observe anyway; nor do they queue on
/// a locked instruction. Wraps without division; allocates nothing.
/// </summary>
internal sealed class RoundRobinCursor
{
    private PaddedInt _position;

    internal RoundRobinCursor(int? seed)
    {
        // Clients start at different pods, so that a fleet started together does not open on the first one.
        _position.Value = new FastRandom(seed).Next(int.MaxValue);
    }

    /// <summary>The next index in [0, <paramref name="length"/>); <paramref name="length"/> must be positive.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int Next(int length)
    {
        int current = Volatile.Read(ref _position.Value);
        int index = (uint)current < (uint)length ? current : Wrap(current, length);
        Volatile.Write(ref _position.Value, index + 1 < length ? index + 1 : 0);
        return index;
    }

    // A set that shrank, or the random start.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int Wrap(int position, int length) => (int)((uint)position % (uint)length);

    [StructLayout(LayoutKind.Explicit, Size = 128)]
    private struct PaddedInt
    {
        // In the middle of 128 bytes, so that the position never shares a cache line (or an adjacent-line prefetch
        // pair) with another object's fields.
        [FieldOffset(64)]
        public int Value;
    }
}
