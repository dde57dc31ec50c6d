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
