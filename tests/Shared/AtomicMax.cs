namespace Headless.Discovery.TestSupport;

/// <summary>The highest value seen, kept by compare-and-swap: for tests that measure peak concurrency.</summary>
internal static class AtomicMax
{
    /// <summary>Raises <paramref name="target"/> to <paramref name="value"/> unless it is already at least that.</summary>
    public static void Raise(ref int target, int value)
    {
        int current = Volatile.Read(ref target);
        while (value > current)
        {
            int seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
