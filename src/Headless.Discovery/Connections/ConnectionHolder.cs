using System.Diagnostics.CodeAnalysis;

namespace Headless.Discovery;

/// <summary>
/// One connection of a <see cref="ConnectionSet{TConnection}"/> and its use count: the set's own reference plus one per
/// <see cref="ConnectionLease{TConnection}"/>. Retired (no new leases) when its pod leaves or it is reported broken;
/// closed once the count reaches zero. Thread-safe; adding a reference takes no lock and allocates nothing.
/// </summary>
/// <typeparam name="TConnection">The connection type.</typeparam>
internal sealed class ConnectionHolder<TConnection>
    where TConnection : class
{
    private readonly Func<ConnectionHolder<TConnection>, Task> _close;
    private readonly TaskCompletionSource<ConnectionCloseReason> _retired = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _references = 1;

    /// <param name="endpoint">The pod.</param>
    /// <param name="connection">The live connection.</param>
    /// <param name="connectedAt">When it was made.</param>
    /// <param name="close">Closes the connection once its last reference is released; never throws.</param>
    internal ConnectionHolder(PodEndpoint endpoint, TConnection connection, DateTimeOffset connectedAt, Func<ConnectionHolder<TConnection>, Task> close)
    {
        _close = close;
        Endpoint = endpoint;
        Connection = connection;
        Public = new PodConnection<TConnection>(endpoint, connection, connectedAt);
    }

    internal PodEndpoint Endpoint { get; }

    internal TConnection Connection { get; }

    internal PodConnection<TConnection> Public { get; }

    /// <summary>Completes with the reason once the connection is taken out of the set.</summary>
    internal Task<ConnectionCloseReason> Retired => _retired.Task;

    /// <summary>Completes once the connection is closed (its last reference released and the close delegate done).</summary>
    internal Task Closed => _closed.Task;

    internal bool TryAddRef()
    {
        // Not once retired: a removed or broken connection gets no new users.
        if (_retired.Task.IsCompleted)
        {
            return false;
        }

        int current = Volatile.Read(ref _references);
        while (current > 0)
        {
            int seen = Interlocked.CompareExchange(ref _references, current + 1, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }

        return false;
    }

    internal void Retire(ConnectionCloseReason reason) => _retired.TrySetResult(reason);

    [SuppressMessage("Reliability", "CA2012:Use ValueTasks correctly", Justification = "Fire and forget; completion is observed through Closed.")]
    internal void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
        {
            _ = CloseThenSignalAsync();
        }
    }

    private async Task CloseThenSignalAsync()
    {
        await _close(this).ConfigureAwait(false);
        _closed.TrySetResult();
    }
}
