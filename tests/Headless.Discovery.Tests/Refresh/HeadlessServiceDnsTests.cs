using System.Net;
using Headless.Discovery;
using Headless.Discovery.Testing;

namespace Headless.Discovery.Tests.Refresh;

/// <summary>The live set end to end: HeadlessService over DnsResolver over the embedded DNS server on loopback.</summary>
public sealed class HeadlessServiceDnsTests : IAsyncLifetime
{
    private const string Name = "web.default.svc.cluster.local";
    private EmbeddedDnsServer _dns = null!;

    public async Task InitializeAsync() => _dns = await EmbeddedDnsServer.StartAsync();

    public async Task DisposeAsync() => await _dns.DisposeAsync();

    private static IPAddress[] Pods(int count, int first = 1) =>
        Enumerable.Range(first, count).Select(i => IPAddress.Parse($"10.1.0.{i}")).ToArray();

    private HeadlessService Create(Action<HeadlessServiceOptions>? configure = null)
    {
        var options = new HeadlessServiceOptions { Name = Name, Port = 8080, DnsAttemptTimeout = TimeSpan.FromSeconds(2), DnsRetryCount = 1 };
        options.DnsServers.Add(_dns.NameServer);
        configure?.Invoke(options);
        return new HeadlessService(options);
    }

    [Fact]
    public async Task Follows_scale_up_and_down_through_real_dns()
    {
        _dns.SetAddresses(Name, Pods(3));
        await using HeadlessService service = Create();

        EndpointSet three = await service.WaitForEndpointsAsync(3).AsTask().WaitAsync(Generous);
        Assert.Equal(["10.1.0.1:8080", "10.1.0.2:8080", "10.1.0.3:8080"], three.Endpoints.Select(e => e.Key));
        Assert.Equal(TimeSpan.FromSeconds(5), three.Ttl);

        _dns.SetAddresses(Name, Pods(5));
        EndpointSet five = await service.RefreshAsync().AsTask().WaitAsync(Generous);
        Assert.Equal(5, five.Count);
        Assert.Equal(three.Version + 1, five.Version);

        _dns.SetAddresses(Name, Pods(2, first: 4));
        EndpointSet two = await service.RefreshAsync().AsTask().WaitAsync(Generous);
        Assert.Equal(["10.1.0.4:8080", "10.1.0.5:8080"], two.Endpoints.Select(e => e.Key));
    }

    [Fact]
    public async Task A_dns_outage_keeps_the_last_known_endpoints_marked_stale()
    {
        _dns.SetAddresses(Name, Pods(3));
        await using HeadlessService service = Create();
        EndpointSet good = await service.WaitForEndpointsAsync(3).AsTask().WaitAsync(Generous);

        _dns.Pause();
        EndpointSet stale = await service.RefreshAsync().AsTask().WaitAsync(Generous);
        Assert.True(stale.IsStale);
        Assert.Equal(good.Endpoints, stale.Endpoints);
        Assert.NotNull(stale.LastError);

        _dns.Resume();
        EndpointSet fresh = await service.RefreshAsync().AsTask().WaitAsync(Generous);
        Assert.False(fresh.IsStale);
        Assert.Equal(good.Endpoints.ToArray(), fresh.Endpoints.ToArray());
    }

    [Fact]
    public async Task Nxdomain_during_a_rollout_does_not_empty_the_set_until_confirmed()
    {
        _dns.SetAddresses(Name, Pods(3));
        await using HeadlessService service = Create(o => o.EmptyAnswerConfirmations = 2);
        await service.WaitForEndpointsAsync(3).AsTask().WaitAsync(Generous);

        _dns.RemoveName(Name);
        EndpointSet first = await service.RefreshAsync().AsTask().WaitAsync(Generous);
        Assert.Equal(3, first.Count);
        Assert.IsType<EmptyAnswerException>(first.LastError);

        EndpointSet second = await service.RefreshAsync().AsTask().WaitAsync(Generous);
        Assert.Empty(second.Endpoints);
        Assert.False(second.IsStale);
    }

    [Fact]
    public async Task Srv_answers_carry_hostnames_ports_and_ordinals()
    {
        const string srv = "_http._tcp.web.default.svc.cluster.local";
        for (int i = 0; i < 3; i++)
        {
            _dns.SetAddresses($"web-{i}.web.default.svc.cluster.local", [IPAddress.Parse($"10.2.0.{i + 1}")]);
        }

        _dns.SetSrvRecords(srv, Enumerable.Range(0, 3).Select(i => new SrvTarget($"web-{i}.web.default.svc.cluster.local", 9000 + i)));
        await using HeadlessService service = Create(o => { o.Name = srv; o.UseSrv = true; });
        EndpointSet set = await service.WaitForEndpointsAsync(3).AsTask().WaitAsync(Generous);
        Assert.Equal([0, 1, 2], set.Endpoints.Select(e => e.Ordinal!.Value));
        Assert.Equal([9000, 9001, 9002], set.Endpoints.Select(e => e.Port));
        Assert.Equal("web-1.web.default.svc.cluster.local", set.Endpoints[1].Hostname);
    }

    [Fact]
    public void Invalid_options_fail_in_the_constructor_naming_the_option()
    {
        var options = new HeadlessServiceOptions { Name = Name, MinRefreshInterval = TimeSpan.FromMinutes(2) };
        ArgumentException ex = Assert.ThrowsAny<ArgumentException>(() => new HeadlessService(options));
        Assert.Contains(nameof(HeadlessServiceOptions.MinRefreshInterval), ex.Message, StringComparison.Ordinal);
    }
}
