namespace Headless.Discovery;

/// <summary>
/// A pod's passive failure streak: incremented by each failed call, reset by a success or an ejection. Lock-free; a
/// success that finds it at zero writes nothing, so a steady stream of successes touches no shared cache line.
/// </summary>
internal sealed class FailureStreak
{
    private int _count;

    /// <summary>Counts one more failure; returns the streak.</summary>
    public int Increment() => Interlocked.Increment(ref _count);

    /// <summary>Ends the streak.</summary>
    public void Reset()
    {
        if (Volatile.Read(ref _count) != 0)
        {
            Volatile.Write(ref _count, 0);
        }
    }
}
