using System.Net;
using System.Net.Sockets;
using DnsClient;

namespace Headless.Discovery.Testing.Tests;

public sealed class LoopbackPodSetTests
{
    private const string Service = "web.default.svc.cluster.local";
    private const string Srv = "_http._tcp." + Service;

    [Fact]
    public async Task Pods_share_one_port_on_distinct_addresses_and_all_answer()
    {
        await using var set = await LoopbackPodSet.StartAsync(3, namePrefix: "web");
        using var http = LoopbackPodTests.CreateHttpClient();

        var names = new List<string>();
        foreach (var pod in set.Pods)
        {
            using var response = await http.GetAsync(new Uri($"http://{pod.EndPoint}/"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            names.Add(Assert.Single(response.Headers.GetValues("X-Pod-Name")));
        }

        Assert.Equal(["web-0", "web-1", "web-2"], names);
        Assert.Equal(3, set.Pods.Select(p => p.Address).Distinct().Count());
        Assert.All(set.Pods, p => Assert.Equal(set.Port, p.Port));
        Assert.NotEqual(0, set.Port);
    }

    [Fact]
    public async Task Scaling_3_to_5_to_2_is_published_into_dns_like_a_headless_service()
    {
        await using var dns = await EmbeddedDnsServer.StartAsync();
        await using var set = await LoopbackPodSet.StartAsync(3, namePrefix: "web");
        var client = DnsTestClient.Create(dns);

        set.SyncToDns(dns, Service, TimeSpan.FromSeconds(30), Srv);
        var three = await client.QueryAsync(Service, QueryType.A);
        await set.ScaleAsync(5);
        set.SyncToDns(dns, Service, srvName: Srv);
        var five = await client.QueryAsync(Service, QueryType.A);
        var srvFive = await client.QueryAsync(Srv, QueryType.SRV);
        await set.ScaleAsync(2);
        set.SyncToDns(dns, Service, srvName: Srv);
        var two = await client.QueryAsync(Service, QueryType.A);
        var gone = await client.QueryAsync("web-4." + Service, QueryType.A);
        var kept = await client.QueryAsync("web-1." + Service, QueryType.A);

        Assert.Equal(3, three.Addresses().Length);
        Assert.Equal(30, three.Answers[0].InitialTimeToLive);
        Assert.Equal(5, five.Addresses().Length);
        Assert.Equal(5, srvFive.Answers.SrvRecords().Count(r => r.Port == set.Port));
        Assert.Equal(set.Pods.Select(p => p.Address), two.Addresses());
        Assert.Equal(["web-0", "web-1"], set.Pods.Select(p => p.Name));
        Assert.Equal(DnsHeaderResponseCode.NotExistentDomain, gone.Header.ResponseCode);
        Assert.Equal([set.Pods[1].Address], kept.Addresses());
    }

    [Fact]
    public async Task Stopped_and_removed_pods_leave_dns_and_an_empty_set_is_NXDOMAIN()
    {
        await using var dns = await EmbeddedDnsServer.StartAsync();
        await using var set = await LoopbackPodSet.StartAsync(2);
        var client = DnsTestClient.Create(dns);
        var first = set.Pods[0];
        var second = set.Pods[1];

        await first.StopAsync();
        set.SyncToDns(dns, Service);
        var oneRunning = await client.QueryAsync(Service, QueryType.A);
        Assert.True(await set.RemovePodAsync(second));
        Assert.False(await set.RemovePodAsync(second));
        set.SyncToDns(dns, Service);
        var none = await client.QueryAsync(Service, QueryType.A);
        var replacement = await set.AddPodAsync();

        Assert.Equal([second.Address], oneRunning.Addresses());
        Assert.Equal(DnsHeaderResponseCode.NotExistentDomain, none.Header.ResponseCode);
        Assert.Equal("pod-1", replacement.Name);
        Assert.NotEqual(second.Address, replacement.Address);
    }

    [Fact]
    public async Task Scaling_down_changes_dns_in_one_step_as_an_endpoints_update_does()
    {
        await using var dns = await EmbeddedDnsServer.StartAsync();
        await using var set = await LoopbackPodSet.StartAsync(5, namePrefix: "web");
        set.SyncToDns(dns, Service);

        // A reader queries the service without pause while the set scales down: it must only ever see before or after.
        await using var reader = new DnsCountReader(dns, Service);
        await reader.SeenAsync(5);

        await set.ScaleAsync(2);
        await reader.SeenAsync(2);

        Assert.All(await reader.StopAsync(), count => Assert.True(count is 5 or 2, $"an answer with {count} pods"));
    }

    [Fact]
    public async Task Replacing_a_pod_changes_dns_in_one_step_and_keeps_its_ordinal()
    {
        await using var dns = await EmbeddedDnsServer.StartAsync();
        await using var set = await LoopbackPodSet.StartAsync(3, namePrefix: "web");
        set.SyncToDns(dns, Service);
        LoopbackPod old = set.Pods[1];
        var client = DnsTestClient.Create(dns);

        await using var reader = new DnsCountReader(dns, Service);
        await reader.SeenAsync(3);
        LoopbackPod replacement = await set.ReplacePodAsync(old);
        IPAddress[] after = (await client.QueryAsync(Service, QueryType.A)).Addresses();

        Assert.All(await reader.StopAsync(), count => Assert.True(count == 3, $"an answer with {count} pods"));
        Assert.Equal("web-1", replacement.Name);
        Assert.NotEqual(old.Address, replacement.Address);
        Assert.False(old.IsRunning);
        Assert.Equal(["web-0", "web-1", "web-2"], set.Pods.Select(p => p.Name));
        Assert.Contains(replacement.Address, after);
        Assert.DoesNotContain(old.Address, after);
    }

    [Fact]
    public async Task Dispose_stops_every_pod()
    {
        var set = await LoopbackPodSet.StartAsync(2);
        var endPoints = set.Pods.Select(p => p.EndPoint).ToArray();

        await set.DisposeAsync();

        foreach (var endPoint in endPoints)
        {
            using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            var refused = await Assert.ThrowsAsync<SocketException>(async () => await probe.ConnectAsync(endPoint));
            Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        }

        Assert.Empty(set.Pods);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => set.AddPodAsync());
        await Assert.ThrowsAsync<ArgumentException>(() => LoopbackPodSet.StartAsync(1, namePrefix: "Web_"));
    }
}

/// <summary>Queries one name's A records in a loop on another thread and keeps every record count it sees.</summary>
internal sealed class DnsCountReader : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<int> _counts = [];
    private readonly Task _loop;

    public DnsCountReader(EmbeddedDnsServer dns, string name)
    {
        var client = DnsTestClient.Create(dns);
        _loop = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                int count = (await client.QueryAsync(name, QueryType.A)).Addresses().Length;
                lock (_counts)
                {
                    _counts.Add(count);
                    Monitor.PulseAll(_counts);
                }
            }
        });
    }

    /// <summary>Waits until an answer with <paramref name="count"/> records has been read after this call.</summary>
    public Task SeenAsync(int count) => Task.Run(() =>
    {
        lock (_counts)
        {
            int from = _counts.Count;
            while (!_counts.Skip(from).Contains(count))
            {
                Assert.True(Monitor.Wait(_counts, TestTimeouts.Generous), $"no answer with {count} pods");
            }
        }
    });

    /// <summary>Stops reading and returns every count read.</summary>
    public async Task<int[]> StopAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        lock (_counts)
        {
            return [.. _counts];
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }
}
