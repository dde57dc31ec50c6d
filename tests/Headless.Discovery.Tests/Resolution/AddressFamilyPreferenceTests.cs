using System.Net;
using Headless.Discovery.Testing;

namespace Headless.Discovery.Tests.Resolution;

/// <summary>
/// <see cref="DnsAddressFamily.IPv4Preferred"/> and <see cref="DnsAddressFamily.IPv6Preferred"/> (Envoy's
/// <c>dns_lookup_family: V4_PREFERRED</c>): the preferred family's addresses when it has any, else the other family's,
/// never a mix — through the public resolver, against the embedded DNS server.
/// </summary>
public sealed class AddressFamilyPreferenceTests : IAsyncLifetime
{
    private const string Name = "web.default.svc.cluster.local";
    private static readonly ServiceName Svc = ServiceName.Parse(Name);
    private EmbeddedDnsServer _dns = null!;

    public async Task InitializeAsync() => _dns = await EmbeddedDnsServer.StartAsync();

    public async Task DisposeAsync() => await _dns.DisposeAsync();

    private Task<ResolutionResult> ResolveAsync(DnsAddressFamily family, ServiceName? name = null, bool srv = false)
    {
        var options = new HeadlessServiceOptions { Port = 80, AddressFamily = family, UseSrv = srv, DnsAttemptTimeout = Generous, DnsRetryCount = 0 };
        options.DnsServers.Add(_dns.NameServer);
        return new DnsEndpointResolver(options).ResolveAsync(name ?? Svc).AsTask().WaitAsync(Generous);
    }

    private static IPAddress[] Ips(params string[] addresses) => [.. addresses.Select(IPAddress.Parse)];

    private static string[] Keys(ResolutionResult result) => [.. result.Endpoints.Select(e => e.ToString())];

    [Theory]
    [InlineData(DnsAddressFamily.IPv4Preferred, new[] { "10.9.0.1:80", "10.9.0.2:80" })]
    [InlineData(DnsAddressFamily.IPv6Preferred, new[] { "[fd00::1]:80" })]
    public async Task A_dual_stack_answer_gives_only_the_preferred_family(DnsAddressFamily family, string[] expected)
    {
        _dns.SetAddresses(Name, Ips("10.9.0.1", "fd00::1", "10.9.0.2"));

        ResolutionResult result = await ResolveAsync(family);

        Assert.Equal(ResolutionOutcome.Success, result.Outcome);
        Assert.Equal(expected, Keys(result));
    }

    [Theory]
    [InlineData(DnsAddressFamily.IPv4Preferred, "fd00::7", "[fd00::7]:80")]
    [InlineData(DnsAddressFamily.IPv6Preferred, "10.9.0.7", "10.9.0.7:80")]
    public async Task A_single_stack_answer_in_the_other_family_is_used(DnsAddressFamily family, string address, string expected)
    {
        _dns.SetAddresses(Name, Ips(address), TimeSpan.FromSeconds(11));

        ResolutionResult result = await ResolveAsync(family);

        Assert.Equal(ResolutionOutcome.Success, result.Outcome);
        Assert.Equal([expected], Keys(result));
        Assert.Equal(TimeSpan.FromSeconds(11), result.Ttl);
    }

    [Theory]
    [InlineData(DnsAddressFamily.IPv4Preferred)]
    [InlineData(DnsAddressFamily.IPv6Preferred)]
    public async Task A_name_without_addresses_is_NotFound_and_asks_both_families(DnsAddressFamily family)
    {
        ResolutionResult result = await ResolveAsync(family);

        Assert.Equal(ResolutionOutcome.NotFound, result.Outcome);
        Assert.Empty(result.Endpoints);
        Assert.Equal(1, _dns.GetQueryCount(DnsRecordType.A));
        Assert.Equal(1, _dns.GetQueryCount(DnsRecordType.Aaaa));
    }

    [Theory]
    [InlineData(DnsAddressFamily.IPv4Preferred, DnsRecordType.A)]
    [InlineData(DnsAddressFamily.IPv6Preferred, DnsRecordType.Aaaa)]
    public async Task The_other_family_is_not_asked_when_the_preferred_one_answers(DnsAddressFamily family, DnsRecordType preferred)
    {
        _dns.SetAddresses(Name, Ips("10.9.0.1", "fd00::1"));

        _ = await ResolveAsync(family);

        Assert.Equal(1, _dns.GetQueryCount(preferred));
        Assert.Equal(0, _dns.GetQueryCount(preferred == DnsRecordType.A ? DnsRecordType.Aaaa : DnsRecordType.A));
    }

    [Fact]
    public async Task A_failed_preferred_lookup_fails_the_round_instead_of_switching_family()
    {
        // Switching family on a timeout or SERVFAIL would flip the whole set between families on a flaky network; the
        // round fails instead, and the service keeps its last known good set.
        _dns.SetAddresses(Name, Ips("10.9.0.1", "fd00::1"));
        _dns.InjectFault(DnsFault.ServerFailure, Name);

        ResolutionResult result = await ResolveAsync(DnsAddressFamily.IPv4Preferred);

        Assert.Equal(ResolutionOutcome.Failed, result.Outcome);
        Assert.Equal(0, _dns.GetQueryCount(DnsRecordType.Aaaa));
    }

    [Fact]
    public async Task SRV_targets_each_get_their_preferred_family_from_the_additional_section()
    {
        string srv = "_http._tcp." + Name;
        _dns.SetSrvRecords(srv, [new SrvTarget("web-0." + Name, 8080), new SrvTarget("web-1." + Name, 8080)]);
        _dns.SetAddresses("web-0." + Name, Ips("10.0.0.10", "fd00::10"));
        _dns.SetAddresses("web-1." + Name, Ips("fd00::11"));

        ResolutionResult v4 = await ResolveAsync(DnsAddressFamily.IPv4Preferred, ServiceName.Parse(srv), srv: true);
        ResolutionResult v6 = await ResolveAsync(DnsAddressFamily.IPv6Preferred, ServiceName.Parse(srv), srv: true);

        Assert.Equal(["10.0.0.10:8080 (web-0." + Name + ")", "[fd00::11]:8080 (web-1." + Name + ")"], Keys(v4));
        Assert.Equal(["[fd00::10]:8080 (web-0." + Name + ")", "[fd00::11]:8080 (web-1." + Name + ")"], Keys(v6));
    }

    [Fact]
    public async Task SRV_targets_looked_up_one_by_one_get_their_preferred_family()
    {
        string srv = "_http._tcp." + Name;
        _dns.SetSrvRecords(srv, [new SrvTarget("web-0." + Name, 8080), new SrvTarget("web-1." + Name, 8080)], includeAddressesInAdditionalSection: false);
        _dns.SetAddresses("web-0." + Name, Ips("10.0.0.10", "fd00::10"));
        _dns.SetAddresses("web-1." + Name, Ips("fd00::11"));

        ResolutionResult v4 = await ResolveAsync(DnsAddressFamily.IPv4Preferred, ServiceName.Parse(srv), srv: true);

        Assert.Equal(["10.0.0.10:8080 (web-0." + Name + ")", "[fd00::11]:8080 (web-1." + Name + ")"], Keys(v4));
    }
}
