using System.Net;
using Headless.Discovery.Examples.Redis;
using Headless.Discovery.Testing;
using StackExchange.Redis;

namespace Headless.Discovery.Redis.Tests;

/// <summary>
/// The Redis example against real redis-server processes: a primary and two replicas on distinct loopback addresses
/// behind one name in the embedded DNS server, resolved by a real <see cref="HeadlessService"/>.
/// </summary>
public sealed class RedisReplicaSetTests : IAsyncLifetime
{
    private const string Name = "redis.default.svc.cluster.local";
    private static readonly TimeSpan Generous = TestTimeouts.Generous;
    private readonly List<RedisServer> _servers = [];
    private EmbeddedDnsServer _dns = null!;
    private HeadlessService _service = null!;
    private RedisReplicaSet _redis = null!;
    private int _port;

    public async Task InitializeAsync()
    {
        IReadOnlyList<IPAddress> addresses = LoopbackAddressPool.Next(3);
        _port = RedisServer.FreePort(addresses[0]);
        RedisServer primary = await RedisServer.StartAsync(addresses[0], _port);
        _servers.Add(primary);
        _servers.Add(await RedisServer.StartAsync(addresses[1], _port, replicaOf: primary));
        _servers.Add(await RedisServer.StartAsync(addresses[2], _port, replicaOf: primary));
        await primary.WaitForReplicasAsync(2);

        _dns = await EmbeddedDnsServer.StartAsync(IPAddress.Loopback);
        PublishInDns(_servers);
        var options = new HeadlessServiceOptions { Name = Name, Port = _port, EmptyAnswerConfirmations = 1 };
        options.DnsServers.Add(_dns.NameServer);
        _service = new HeadlessService(options);
        _redis = new RedisReplicaSet(_service);
        _redis.Start();
        await WaitForPodsAsync(_servers);
    }

    public async Task DisposeAsync()
    {
        await _redis.DisposeAsync();
        await _service.DisposeAsync();
        foreach (RedisServer server in _servers)
        {
            await server.DisposeAsync();
        }

        await _dns.DisposeAsync();
    }

    private void PublishInDns(IEnumerable<RedisServer> servers) => _dns.SetAddresses(Name, servers.Select(s => s.EndPoint.Address));

    private static PodEndpoint PodOf(RedisServer server) => new(server.EndPoint.Address, server.EndPoint.Port);

    private async Task WaitForPodsAsync(IEnumerable<RedisServer> servers)
    {
        using var timeout = new CancellationTokenSource(Generous);
        await _redis.WaitForPodsAsync([.. servers.Select(PodOf)], timeout.Token);
    }

    private async Task ChangeDnsAsync(IReadOnlyCollection<RedisServer> servers)
    {
        PublishInDns(servers);
        await _service.RefreshAsync();
        await WaitForPodsAsync(servers);
    }

    private static async Task<string?> ValueOnAsync(RedisServer server, string key) =>
        await (await server.AdminAsync()).Multiplexer.GetDatabase().StringGetAsync(key);

    [Fact]
    public async Task Writes_go_to_the_primary_found_by_role_and_every_replica_reads_them_back()
    {
        using var cancel = new CancellationTokenSource(Generous);
        Assert.Equal(PodOf(_servers[0]), await _redis.FindPrimaryAsync(cancel.Token));

        for (int i = 0; i < 20; i++)
        {
            await _redis.WriteAsync($"key-{i}", $"value-{i}", replicas: 2, cancel.Token);
        }

        IReadOnlyList<(PodEndpoint Replica, string? Value)> reads = await _redis.ReadFromReplicasAsync("key-19", cancel.Token);
        Assert.Equal([PodOf(_servers[1]), PodOf(_servers[2])], reads.Select(r => r.Replica).Order());
        Assert.All(reads, r => Assert.Equal("value-19", r.Value));
    }

    [Fact]
    public async Task A_failover_loses_no_acknowledged_write_and_writes_go_on_to_the_promoted_replica()
    {
        using var cancel = new CancellationTokenSource(Generous);
        RedisServer oldPrimary = _servers[0], promoted = _servers[1], other = _servers[2];
        for (int i = 0; i < 50; i++)
        {
            await _redis.WriteAsync($"before-{i}", $"{i}", replicas: 2, cancel.Token);
        }

        // The failover an operator (or Sentinel) makes: a replica promoted, the other follows it, the old primary's
        // pod is gone — out of DNS and stopped.
        await (await promoted.AdminAsync()).ExecuteAsync("REPLICAOF", "NO", "ONE");
        await (await other.AdminAsync()).ReplicaOfAsync(promoted.EndPoint);
        _servers.Remove(oldPrimary);
        await oldPrimary.DisposeAsync();
        await ChangeDnsAsync([promoted, other]);
        await promoted.WaitForReplicasAsync(1);

        Assert.Equal(PodOf(promoted), await _redis.FindPrimaryAsync(cancel.Token));
        for (int i = 0; i < 50; i++)
        {
            Assert.Equal($"{i}", await ValueOnAsync(promoted, $"before-{i}"));
        }

        await _redis.WriteAsync("after", "written", replicas: 1, cancel.Token);
        Assert.Equal([(PodOf(other), (string?)"written")], await _redis.ReadFromReplicasAsync("after", cancel.Token));
    }

    [Fact]
    public async Task A_replaced_replica_is_connected_in_sync_and_read_from()
    {
        using var cancel = new CancellationTokenSource(Generous);
        RedisServer primary = _servers[0], replaced = _servers[2];
        for (int i = 0; i < 20; i++)
        {
            await _redis.WriteAsync($"key-{i}", $"{i}", replicas: 2, cancel.Token);
        }

        // The pod is replaced: the old one stops, a new one on a new address joins as a replica and syncs.
        _servers.Remove(replaced);
        await replaced.DisposeAsync();
        RedisServer replacement = await RedisServer.StartAsync(LoopbackAddressPool.Next(), _port, replicaOf: primary);
        _servers.Add(replacement);
        await primary.WaitForReplicasAsync(2);
        await ChangeDnsAsync([primary, _servers[1], replacement]);

        await _redis.WriteAsync("after", "replaced", replicas: 2, cancel.Token);
        IReadOnlyList<(PodEndpoint Replica, string? Value)> reads = await _redis.ReadFromReplicasAsync("key-7", cancel.Token);
        Assert.Contains((PodOf(replacement), (string?)"7"), reads);
        Assert.Equal("replaced", await ValueOnAsync(replacement, "after"));
    }
}
