namespace Headless.Discovery;

/// <summary>
/// Receives a lease's end: the outstanding counter of one pod (power of two choices), or a selector that reacts to
/// failures (pick first). Called once per lease.
/// </summary>
internal abstract class LeaseTracker
{
    /// <summary>Called when a lease starts, before it is handed out.</summary>
    /// <returns><see langword="false"/> when the pod has no room for another lease (its limit was reached meanwhile).</returns>
    internal virtual bool TryAcquire() => true;

    /// <summary>Called when the lease ends.</summary>
    /// <param name="endpoint">The leased pod.</param>
    /// <param name="outcome">1 success, -1 failure, 0 not reported.</param>
    internal abstract void Release(PodEndpoint endpoint, int outcome);
}

/// <summary>One pod's outstanding lease count, shared by every table that contains the pod, with an optional limit.</summary>
/// <param name="limit">The most leases the pod may hold at once; <see cref="int.MaxValue"/> for no limit.</param>
internal sealed class OutstandingCounter(int limit = int.MaxValue) : LeaseTracker
{
    private int _value;

    internal int Value => Volatile.Read(ref _value);

    internal override bool TryAcquire()
    {
        if (limit == int.MaxValue)
        {
            Interlocked.Increment(ref _value);
            return true;
        }

        // Reserve a slot only below the limit: two leases racing for the last slot cannot both get it.
        int current = Volatile.Read(ref _value);
        while (current < limit)
        {
            int seen = Interlocked.CompareExchange(ref _value, current + 1, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }

        return false;
    }

    internal override void Release(PodEndpoint endpoint, int outcome)
    {
        // A copied lease disposed twice must not drive the count below zero and skew P2C for good.
        if (Interlocked.Decrement(ref _value) < 0)
        {
            Interlocked.Increment(ref _value);
        }
    }
}
