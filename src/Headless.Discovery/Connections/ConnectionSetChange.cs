namespace Headless.Discovery;

/// <summary>Why a <see cref="ConnectionSet{TConnection}"/> let a connection go.</summary>
public enum ConnectionCloseReason
{
    /// <summary>Not closed (the change is a connect).</summary>
    None = 0,

    /// <summary>The pod left the service, or became unavailable.</summary>
    Removed,

    /// <summary>A user reported the connection broken; a new one is being made.</summary>
    Broken,

    /// <summary>The connection set was disposed.</summary>
    Disposed,
}

/// <summary>One live connection of a <see cref="ConnectionSet{TConnection}"/>. Immutable.</summary>
/// <typeparam name="TConnection">The connection type.</typeparam>
public sealed class PodConnection<TConnection>
    where TConnection : class
{
    internal PodConnection(PodEndpoint endpoint, TConnection connection, DateTimeOffset connectedAt)
    {
        Endpoint = endpoint;
        Connection = connection;
        ConnectedAt = connectedAt;
    }

    /// <summary>The pod.</summary>
    public PodEndpoint Endpoint { get; }

    /// <summary>The connection. Use it through <see cref="ConnectionSet{TConnection}.TryAcquire(PodEndpoint, out ConnectionLease{TConnection})"/> so it is not closed under you.</summary>
    public TConnection Connection { get; }

    /// <summary>When the connection was made (shown by <see cref="ToString"/>).</summary>
    internal DateTimeOffset ConnectedAt { get; }

    /// <summary>The pod and connection time.</summary>
    public override string ToString() => $"{Endpoint} (connected {ConnectedAt:O})";
}

/// <summary>A connection made or let go by a <see cref="ConnectionSet{TConnection}"/>. Immutable.</summary>
/// <typeparam name="TConnection">The connection type.</typeparam>
public sealed class ConnectionSetChange<TConnection>
    where TConnection : class
{
    internal ConnectionSetChange(PodEndpoint endpoint, TConnection connection, bool connected, ConnectionCloseReason reason)
    {
        Endpoint = endpoint;
        Connection = connection;
        IsConnected = connected;
        Reason = reason;
    }

    /// <summary>The pod.</summary>
    public PodEndpoint Endpoint { get; }

    /// <summary>The connection that was made or let go.</summary>
    public TConnection Connection { get; }

    /// <summary><see langword="true"/> for a new connection.</summary>
    internal bool IsConnected { get; }

    /// <summary>
    /// <see cref="ConnectionCloseReason.None"/> for a new connection; otherwise why the connection was taken out of the
    /// set (it is closed once in-flight uses end).
    /// </summary>
    public ConnectionCloseReason Reason { get; }

    /// <summary>A short description.</summary>
    public override string ToString() => IsConnected ? $"connected {Endpoint}" : $"disconnected {Endpoint} ({Reason})";
}
