namespace Headless.Discovery;

/// <summary>
/// Receives a lease's end: the outstanding counter of one pod (power of two choices), or a selector that reacts to
/// failures (pick first). Called once per lease.
/// </summary>
internal abstract class LeaseTracker
{
    /// <summary>Called when a lease starts, before it is handed out.</summary>
    internal virtual void Acquire()
    {
    }

    /// <summary>Called when the lease ends.</summary>
    /// <param name="endpoint">The leased pod.</param>
    /// <param name="outcome">1 success, -1 failure, 0 not reported.</param>
    internal abstract void Release(PodEndpoint endpoint, int outcome);
}

/// <summary>One pod's outstanding lease count, shared by every table that contains the pod.</summary>
internal sealed class OutstandingCounter : LeaseTracker
{
    private int _value;

    internal int Value => Volatile.Read(ref _value);

    internal override void Acquire() => Interlocked.Increment(ref _value);

    internal override void Release(PodEndpoint endpoint, int outcome)
    {
        // A copied lease disposed twice must not drive the count below zero and skew P2C for good.
        if (Interlocked.Decrement(ref _value) < 0)
        {
            Interlocked.Increment(ref _value);
        }
    }
}
