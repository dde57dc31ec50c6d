using Headless.Discovery;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Headless.Discovery.Examples.Redis;

/// <summary>
/// A Redis primary and its replicas behind one headless Service (a StatefulSet with <c>replicaof</c>), seen through the
/// library: one <see cref="ConnectionMultiplexer"/> per pod (<see cref="ConnectionSet{TConnection}"/>), the primary
/// found by asking each pod its <c>ROLE</c>, writes to the primary acknowledged by <c>WAIT</c> on the replicas, reads
/// fanned out to every replica. Follows a failover (a replica promoted, the old primary gone from DNS) and a replaced
/// pod: the pods come and go with the service's endpoint set, and the primary is looked for again whenever the one in
/// use leaves or a write fails.
/// </summary>
public sealed class RedisReplicaSet : IAsyncDisposable
{
    private readonly IHeadlessService _service;
    private readonly ConnectionSet<ConnectionMultiplexer> _connections;
    private PodEndpoint? _primary;

    /// <summary>Creates the set; nothing connects until <see cref="Start"/>.</summary>
    /// <param name="service">The headless Service in front of the Redis pods.</param>
    /// <param name="loggerFactory">Logging.</param>
    public RedisReplicaSet(IHeadlessService service, ILoggerFactory? loggerFactory = null)
    {
        _service = service;
        _connections = new ConnectionSet<ConnectionMultiplexer>(
            service,
            ConnectAsync,
            close: async connection => await connection.CloseAsync(allowCommandsToComplete: false),
            new ConnectionSetOptions { ConnectTimeout = TimeSpan.FromSeconds(5) },
            loggerFactory);
        _connections.Changed += (_, change) =>
        {
            // The primary's pod left (failover, scale-down): find it again on the next write.
            if (change.Reason != ConnectionCloseReason.None && change.Endpoint.Equals(_primary))
            {
                _primary = null;
            }
        };
    }

    /// <summary>The pods connected now.</summary>
    public IReadOnlyList<PodEndpoint> Pods => [.. _connections.Connections.Select(c => c.Endpoint)];

    /// <summary>Starts connecting to every pod of the service.</summary>
    public void Start() => _connections.Start();

    /// <summary>Waits until a connection to each of <paramref name="pods"/> (and no other pod) is open.</summary>
    /// <param name="pods">The pods.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes when the connections are those.</returns>
    public Task WaitForPodsAsync(IReadOnlyCollection<PodEndpoint> pods, CancellationToken cancellationToken) =>
        _connections.WaitAsync(now => now.Length == pods.Count && now.All(c => pods.Contains(c.Endpoint)), cancellationToken).AsTask();

    /// <summary>The pod whose <c>ROLE</c> is master, asked of every connected pod.</summary>
    /// <param name="cancellationToken">Cancels the search.</param>
    /// <returns>The primary pod.</returns>
    /// <exception cref="InvalidOperationException">No connected pod is a primary (a failover in progress).</exception>
    public async Task<PodEndpoint> FindPrimaryAsync(CancellationToken cancellationToken)
    {
        var roles = new List<string>();
        foreach (PodConnection<ConnectionMultiplexer> pod in _connections.Connections)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                IServer server = pod.Connection.GetServer(pod.Endpoint.EndPoint);
                Role role = await server.RoleAsync();
                if (role is Role.Master)
                {
                    if (server.IsReplica)
                    {
                        // A promoted replica: the client keeps refusing writes to it, so the set replaces the
                        // connection (one per pod, never two) with one that sees the new role.
                        await ReconnectAsync(pod, cancellationToken);
                    }

                    _primary = pod.Endpoint;
                    return pod.Endpoint;
                }

                roles.Add($"{pod.Endpoint}: {role.Value}");
            }
            catch (RedisException e)
            {
                roles.Add($"{pod.Endpoint}: {e.Message}");
            }
        }

        throw new InvalidOperationException($"No pod of {_service.Name} is a primary: {(roles.Count == 0 ? "no pod connected" : string.Join("; ", roles))}.");
    }

    /// <summary>
    /// Writes <paramref name="key"/> on the primary and waits until <paramref name="replicas"/> replicas have it
    /// (<c>WAIT</c>): an acknowledged write survives the loss of the primary. A write that fails looks for the primary
    /// again and is tried once more.
    /// </summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <param name="replicas">How many replicas must hold the write before it counts as acknowledged.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the write is acknowledged.</returns>
    /// <exception cref="InvalidOperationException">Fewer replicas than asked acknowledged the write within 5 seconds.</exception>
    public async Task WriteAsync(string key, string value, int replicas, CancellationToken cancellationToken)
    {
        for (int attempt = 0; ; attempt++)
        {
            PodEndpoint primary = _primary ?? await FindPrimaryAsync(cancellationToken);
            try
            {
                if (!_connections.TryAcquire(primary, out ConnectionLease<ConnectionMultiplexer> lease))
                {
                    throw new RedisException($"{primary} is no longer connected");
                }

                using (lease)
                {
                    // A pod that is no longer the primary refuses the write, which sends us looking again.
                    IDatabase db = lease.Connection.GetDatabase();
                    await db.StringSetAsync(key, value, flags: CommandFlags.DemandMaster).WaitAsync(cancellationToken);
                    long acknowledged = (long)await db.ExecuteAsync("WAIT", replicas, 5000).WaitAsync(cancellationToken);
                    if (acknowledged < replicas)
                    {
                        throw new InvalidOperationException($"The write of '{key}' reached {acknowledged} of {replicas} replica(s) within 5 s.");
                    }

                    return;
                }
            }
            catch (RedisException) when (attempt == 0)
            {
                // The primary failed over or went away: ask the pods again.
                _primary = null;
            }
        }
    }

    /// <summary>Reads <paramref name="key"/> from every replica, in parallel (the library's fan-out over the pods).</summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Cancels the reads.</param>
    /// <returns>Each replica and the value it holds (<see langword="null"/> when it has none).</returns>
    public async Task<IReadOnlyList<(PodEndpoint Replica, string? Value)>> ReadFromReplicasAsync(string key, CancellationToken cancellationToken)
    {
        PodEndpoint primary = _primary ?? await FindPrimaryAsync(cancellationToken);
        FanOutResult<(bool IsReplica, string? Value)> result = await _service.FanOutAsync<(bool, string?)>(
            async (pod, ct) =>
            {
                if (pod.Equals(primary))
                {
                    return (false, null);
                }

                if (!_connections.TryAcquire(pod, out ConnectionLease<ConnectionMultiplexer> lease))
                {
                    throw new InvalidOperationException($"{pod} is not connected.");
                }

                using (lease)
                {
                    return (true, await lease.Connection.GetDatabase().StringGetAsync(key, CommandFlags.DemandReplica).WaitAsync(ct));
                }
            },
            new FanOutOptions { PerPodTimeout = TimeSpan.FromSeconds(5) },
            cancellationToken);
        return [.. result.Results.Where(r => r.Succeeded && r.Value.IsReplica).Select(r => (r.Endpoint, r.Value.Value))];
    }

    private async Task ReconnectAsync(PodConnection<ConnectionMultiplexer> stale, CancellationToken cancellationToken)
    {
        _connections.ReportBroken(stale.Endpoint);
        await _connections.WaitAsync(
            now => now.Any(c => c.Endpoint.Equals(stale.Endpoint) && !ReferenceEquals(c.Connection, stale.Connection)),
            cancellationToken);
    }

    /// <summary>Closes every connection.</summary>
    /// <returns>A task that completes when they are closed.</returns>
    public ValueTask DisposeAsync() => _connections.DisposeAsync();

    private static async ValueTask<ConnectionMultiplexer> ConnectAsync(PodEndpoint pod, CancellationToken cancellationToken)
    {
        // One multiplexer per pod, talking to that pod only: the set, not the client, decides which pods there are.
        var options = new ConfigurationOptions
        {
            EndPoints = { pod.EndPoint },
            AbortOnConnectFail = true,
            AllowAdmin = true,
            ConnectTimeout = 5000,
            ConnectRetry = 1,
            ClientName = "headless-discovery-example",
        };
        return await ConnectionMultiplexer.ConnectAsync(options).WaitAsync(cancellationToken);
    }
}
