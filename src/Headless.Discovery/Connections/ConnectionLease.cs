namespace Headless.Discovery;

/// <summary>
/// A use of one pooled connection: while any lease is held the connection is not closed, even when its pod leaves.
/// Dispose it when the use ends. A struct: acquiring one allocates nothing. Must not be copied and disposed twice.
/// </summary>
/// <typeparam name="TConnection">The connection type.</typeparam>
public struct ConnectionLease<TConnection> : IDisposable
    where TConnection : class
{
    private ConnectionHolder<TConnection>? _holder;

    internal ConnectionLease(ConnectionHolder<TConnection> holder) => _holder = holder;

    /// <summary>The pod, or <see langword="null"/> for a <see langword="default"/> lease.</summary>
    public readonly PodEndpoint Endpoint => _holder?.Endpoint!;

    /// <summary>The connection, or <see langword="null"/> for a <see langword="default"/> lease.</summary>
    public readonly TConnection Connection => _holder?.Connection!;

    /// <summary>
    /// Reports the connection broken: it is taken out of the set at once (closed when the last lease ends) and a new
    /// connection to the pod is made. Does not end this lease.
    /// </summary>
    public readonly void MarkBroken() => _holder?.Retire(ConnectionCloseReason.Broken);

    /// <summary>Ends the use. Idempotent on this variable.</summary>
    public void Dispose()
    {
        ConnectionHolder<TConnection>? holder = _holder;
        _holder = null;
        holder?.Release();
    }
}
