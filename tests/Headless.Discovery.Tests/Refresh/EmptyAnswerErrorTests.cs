using System.Net;
using Headless.Discovery.Testing;

namespace Headless.Discovery.Tests.Refresh;

/// <summary>
/// An empty set says why it is empty: <see cref="EndpointSet.LastError"/> holds the resolver's error for the empty
/// answer that emptied it (or that the service started with), as its documentation promises.
/// </summary>
public sealed class EmptyAnswerErrorTests : IAsyncLifetime
{
    private const string Name = "web.default.svc.cluster.local";
    private const string Srv = "_http._tcp." + Name;
    private EmbeddedDnsServer _dns = null!;

    public async Task InitializeAsync() => _dns = await EmbeddedDnsServer.StartAsync();

    public async Task DisposeAsync() => await _dns.DisposeAsync();

    private HeadlessService Create(Action<HeadlessServiceOptions> configure)
    {
        var options = new HeadlessServiceOptions { Name = Name, Port = 8080, DnsAttemptTimeout = TimeSpan.FromSeconds(2), DnsRetryCount = 1 };
        options.DnsServers.Add(_dns.NameServer);
        configure(options);
        return new HeadlessService(options);
    }

    [Fact]
    public async Task A_service_that_starts_empty_carries_the_resolvers_reason()
    {
        // Five SRV targets with IPv4 addresses only, asked for IPv6: the name exists, its records do, no pod is usable.
        var targets = new List<SrvTarget>();
        for (int i = 0; i < 5; i++)
        {
            _dns.SetAddresses($"web-{i}.{Name}", [IPAddress.Parse($"10.1.0.{i + 1}")]);
            targets.Add(new SrvTarget($"web-{i}.{Name}", 8080));
        }

        _dns.SetSrvRecords(Srv, targets);
        await using HeadlessService service = Create(o =>
        {
            o.Name = Srv;
            o.UseSrv = true;
            o.AddressFamily = DnsAddressFamily.IPv6;
        });

        EndpointSet empty = await service.GetEndpointsAsync().AsTask().WaitAsync(Generous);

        Assert.Empty(empty.Endpoints);
        Assert.False(empty.IsStale);
        Exception error = Assert.IsType<DnsResolutionException>(empty.LastError);
        Assert.Contains("none of the 5 SRV target(s)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_confirmed_empty_answer_that_empties_the_set_carries_the_resolvers_reason()
    {
        _dns.SetAddresses(Name, [IPAddress.Parse("10.1.0.1")]);
        await using HeadlessService service = Create(o => o.EmptyAnswerConfirmations = 1);
        await service.WaitForEndpointsAsync(1).AsTask().WaitAsync(Generous);

        _dns.RemoveName(Name);
        EndpointSet empty = await service.RefreshAsync().AsTask().WaitAsync(Generous);

        Assert.Empty(empty.Endpoints);
        Assert.False(empty.IsStale);
        Exception error = Assert.IsType<DnsResolutionException>(empty.LastError);
        Assert.Contains("NXDOMAIN", error.Message, StringComparison.Ordinal);
    }
}
