using System.Net;
using Headless.Discovery;
using Headless.Discovery.Testing;
using Headless.Discovery.TestSupport;

namespace Headless.Discovery.Tests.Reliability;

/// <summary>
/// The DNS fault-injection suite (listed in RELIABILITY.md): each fault is injected into a real server on loopback and
/// the expected behaviour asserted end to end. The rule throughout: a fault never empties a good endpoint set.
/// </summary>
public sealed class DnsFaultTests : IAsyncLifetime
{
    private const string Name = "web.default.svc.cluster.local";
    private static readonly ServiceName Svc = ServiceName.Parse(Name);
    private EmbeddedDnsServer _dns = null!;

    public async Task InitializeAsync() => _dns = await EmbeddedDnsServer.StartAsync();

    public async Task DisposeAsync()
    {
        await _dns.DisposeAsync();

        // Surface any unobserved task exception from this test now, while it is still the test that ran last.
        GC.Collect();
        GC.WaitForPendingFinalizers();
    }

    private static IPAddress[] Pods(int count, int first = 1) =>
        Enumerable.Range(first, count).Select(i => IPAddress.Parse($"10.3.{i / 250}.{(i % 250) + 1}")).ToArray();

    private static DnsResolver Resolver(string server, Action<DnsEndpointResolverOptions>? configure = null)
    {
        var options = new DnsEndpointResolverOptions { Port = 80, DnsAttemptTimeout = TimeSpan.FromSeconds(2), DnsRetryCount = 1, DnsRetryBaseDelay = TimeSpan.FromMilliseconds(10) };
        options.DnsServers.Add(server);
        configure?.Invoke(options);
        return new DnsResolver(options);
    }

    /// <summary>For faults that must time out: short attempts keep those tests quick.</summary>
    private static void Fast(DnsEndpointResolverOptions o) => o.DnsAttemptTimeout = TimeSpan.FromMilliseconds(300);

    private static HeadlessService Service(IEndpointResolver resolver, Action<HeadlessServiceOptions>? configure = null)
    {
        var options = new HeadlessServiceOptions();
        configure?.Invoke(options);
        return new HeadlessService(Svc, resolver, options);
    }

    /// <summary>Resolves 3 pods, injects <paramref name="fault"/>, refreshes, and asserts the 3 pods are kept, stale.</summary>
    private async Task<EndpointSet> AssertFaultKeepsTheSetAsync(Action fault, Action<DnsEndpointResolverOptions>? configure = null)
    {
        _dns.SetAddresses(Name, Pods(3));
        await using HeadlessService service = Service(Resolver(_dns.NameServer, configure));
        EndpointSet good = await service.WaitForEndpointsAsync(3).AsTask().WaitAsync(Generous);

        fault();
        EndpointSet after = await service.RefreshAsync().AsTask().WaitAsync(Generous);
        Assert.True(after.IsStale, "a failed refresh marks the set stale");
        Assert.Equal(good.Endpoints.Select(e => e.Key), after.Endpoints.Select(e => e.Key));
        Assert.NotNull(after.LastError);
        return after;
    }

    [Fact]
    public async Task Server_down_keeps_the_last_known_set()
    {
        EndpointSet after = await AssertFaultKeepsTheSetAsync(() => _dns.Pause(), Fast);
        Assert.Contains("timed out", after.LastError!.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Server_gone_with_its_port_closed_keeps_the_last_known_set()
    {
        // Port 9 (discard) on loopback has no listener: ICMP port unreachable or a timeout, both a failure.
        _dns.SetAddresses(Name, Pods(3));
        var resolver = new SwitchableResolver(Resolver(_dns.NameServer));
        await using HeadlessService service = Service(resolver);
        await service.WaitForEndpointsAsync(3).AsTask().WaitAsync(Generous);
        resolver.Inner = Resolver("127.0.0.1:9");
        EndpointSet after = await service.RefreshAsync().AsTask().WaitAsync(Generous);
        Assert.True(after.IsStale);
        Assert.Equal(3, after.Count);
    }

    [Fact]
    public async Task Server_slower_than_the_attempt_timeout_is_a_failure_not_a_hang()
    {
        EndpointSet after = await AssertFaultKeepsTheSetAsync(() => _dns.ResponseDelay = TimeSpan.FromSeconds(4), Fast);
        var error = Assert.IsType<DnsResolutionException>(after.LastError);
        Assert.True(error.IsTimeout);
        Assert.Contains("timed out: 2 attempt(s)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_servfail_burst_is_retried_and_rides_through()
    {
        _dns.SetAddresses(Name, Pods(3));
        DnsResolver resolver = Resolver(_dns.NameServer, o => o.DnsRetryCount = 3);

        // Shorter than the retries: the round succeeds.
        _dns.InjectFault(DnsFault.ServerFailure, Name, count: 3);
        ResolutionResult rode = await resolver.ResolveAsync(Svc).AsTask().WaitAsync(Generous);
        Assert.Equal(ResolutionOutcome.Success, rode.Outcome);
        Assert.Equal(4, _dns.GetQueryCount(DnsRecordType.A));

        // Longer than the retries: the round fails, and the live set keeps its pods.
        await AssertFaultKeepsTheSetAsync(() => _dns.InjectFault(DnsFault.ServerFailure, Name, count: 10));
    }

    [Fact]
    public async Task Nxdomain_flapping_during_a_rollout_never_empties_the_set()
    {
        _dns.SetAddresses(Name, Pods(3));
        await using HeadlessService service = Service(Resolver(_dns.NameServer), o => o.EmptyAnswerConfirmations = 3);
        await service.WaitForEndpointsAsync(3).AsTask().WaitAsync(Generous);

        // A rollout: the name flaps between NXDOMAIN and a changing set of pods, never 3 NXDOMAINs in a row.
        for (int round = 0; round < 12; round++)
        {
            if (round % 3 == 2)
            {
                _dns.SetAddresses(Name, Pods(3, first: round));
            }
            else
            {
                _dns.RemoveName(Name);
            }

            EndpointSet set = await service.RefreshAsync().AsTask().WaitAsync(Generous);
            Assert.Equal(3, set.Count);
        }
    }

    [Fact]
    public async Task A_truncated_answer_with_tcp_refused_is_a_failure_that_keeps_the_set()
    {
        await AssertFaultKeepsTheSetAsync(() =>
        {
            _dns.TcpEnabled = false;
            _dns.InjectFault(DnsFault.Truncate, Name);
        });
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("short-header")]
    [InlineData("counts-lie")]
    [InlineData("mismatched-id")]
    public async Task Malformed_answers_are_failures_that_keep_the_set(string kind)
    {
        bool broken = false;
        await using var raw = new RawDnsServer(q =>
        {
            if (!broken)
            {
                return DnsWire.Response(q, answers: [DnsWire.ARecord("10.9.0.1"), DnsWire.ARecord("10.9.0.2")]);
            }

            return kind switch
            {
                "garbage" => Enumerable.Range(0, 200).Select(i => (byte)((i * 73) + 11)).ToArray(),
                "short-header" => q.AsSpan(0, 5).ToArray(),
                "counts-lie" => TruncateAfterHeader(DnsWire.Response(q, answers: [DnsWire.ARecord("10.9.0.1")])),
                _ => DnsWire.Response(q, id: (ushort)(DnsWire.Id(q) + 1), answers: [DnsWire.ARecord("10.66.6.6")]),
            };
        });

        await using HeadlessService service = Service(Resolver(raw.NameServer, o => o.DnsRetryCount = 0));
        EndpointSet good = await service.WaitForEndpointsAsync(2).AsTask().WaitAsync(Generous);
        broken = true;
        EndpointSet after = await service.RefreshAsync().AsTask().WaitAsync(Generous);
        Assert.True(after.IsStale);
        Assert.Equal(["10.9.0.1:80", "10.9.0.2:80"], after.Endpoints.Select(e => e.Key));
        Assert.DoesNotContain(after.Endpoints, e => e.Address.ToString() == "10.66.6.6");
        Assert.Same(good.Endpoints[0], after.Endpoints[0]);

        static byte[] TruncateAfterHeader(byte[] response) => response.AsSpan(0, response.Length - 8).ToArray();
    }

    [Fact]
    public async Task Records_for_another_name_are_ignored()
    {
        await using var raw = new RawDnsServer(q => DnsWire.Response(q, answers:
        [
            DnsWire.ARecord("10.9.0.1"),
            DnsWire.ARecord("10.66.6.6", owner: "evil.example.com"),
        ]));
        ResolutionResult result = await Resolver(raw.NameServer).ResolveAsync(Svc).AsTask().WaitAsync(Generous);
        Assert.Equal(["10.9.0.1:80"], result.Endpoints.Select(e => e.Key));
    }

    [Fact]
    public async Task A_cname_chain_is_followed_to_its_addresses()
    {
        await using var raw = new RawDnsServer(q => DnsWire.Response(q, answers:
        [
            DnsWire.CnameRecord(Name, "alias-1.example.internal", ttl: 20),
            DnsWire.CnameRecord("alias-1.example.internal", "alias-2.example.internal", ttl: 10),
            DnsWire.ARecord("10.9.0.7", ttl: 30, owner: "alias-2.example.internal"),
        ]));
        ResolutionResult result = await Resolver(raw.NameServer).ResolveAsync(Svc).AsTask().WaitAsync(Generous);
        Assert.Equal(["10.9.0.7:80"], result.Endpoints.Select(e => e.Key));
        Assert.Equal(TimeSpan.FromSeconds(10), result.Ttl);
    }

    [Fact]
    public async Task A_cname_loop_fails_fast_without_hanging()
    {
        await using var raw = new RawDnsServer(q => DnsWire.Response(q, answers:
        [
            DnsWire.CnameRecord(Name, "loop.example.internal"),
            DnsWire.CnameRecord("loop.example.internal", Name),
            DnsWire.ARecord("10.66.6.6", owner: "elsewhere.example.internal"),
        ]));
        ResolutionResult result = await Resolver(raw.NameServer).ResolveAsync(Svc).AsTask().WaitAsync(Generous);
        Assert.Equal(ResolutionOutcome.Failed, result.Outcome);
        Assert.Equal(
            $"DNS A query for '{Name}' to {raw.NameServer} got an answer whose CNAME chain is longer than 8 links or loops (after 1 attempt(s)).",
            result.Error!.Message);
        Assert.Equal(1, raw.Queries);
    }

    [Theory]
    [InlineData(1, "FORMERR")]
    [InlineData(4, "NOTIMP")]
    [InlineData(9, "RCODE 9")]
    public async Task An_error_answer_is_named_by_its_code_and_not_retried(int rcode, string text)
    {
        await using var raw = new RawDnsServer(q => DnsWire.Response(q, rcode: rcode));
        ResolutionResult result = await Resolver(raw.NameServer).ResolveAsync(Svc).AsTask().WaitAsync(Generous);

        Assert.Equal(ResolutionOutcome.Failed, result.Outcome);
        var error = Assert.IsType<DnsResolutionException>(result.Error);
        Assert.Equal((rcode, false), (error.ResponseCode, error.IsTimeout));
        Assert.Equal($"DNS A query for '{Name}' to {raw.NameServer} answered {text} after 1 attempt(s).", error.Message);
        Assert.Equal(1, raw.Queries);
    }

    [Fact]
    public async Task Duplicate_and_unusable_records_are_dropped()
    {
        await using var raw = new RawDnsServer(q => DnsWire.Response(q, answers:
        [
            DnsWire.ARecord("10.9.0.1"), DnsWire.ARecord("10.9.0.1"), DnsWire.ARecord("10.9.0.2"),
            DnsWire.ARecord("0.0.0.0"), DnsWire.ARecord("255.255.255.255"), DnsWire.ARecord("224.0.0.1"),
        ]));
        ResolutionResult result = await Resolver(raw.NameServer).ResolveAsync(Svc).AsTask().WaitAsync(Generous);
        Assert.Equal(["10.9.0.1:80", "10.9.0.2:80"], result.Endpoints.Select(e => e.Key));
    }

    [Theory]
    [InlineData(0u, 1.0)]
    [InlineData(2147483647u, 30.0)]
    public async Task Ttl_zero_and_huge_ttls_are_clamped_to_the_refresh_bounds(uint ttl, double expectedSeconds)
    {
        await using var raw = new RawDnsServer(q => DnsWire.Response(q, answers: [DnsWire.ARecord("10.9.0.1", ttl)]));
        var clock = new Refresh.RefreshClock();
        var options = new HeadlessServiceOptions { RefreshJitter = 0 };
        await using var service = new HeadlessService(Svc, Resolver(raw.NameServer), options, clock);
        Task<TimeSpan> armed = clock.NextArmed();
        EndpointSet set = await service.WaitForEndpointsAsync(1).AsTask().WaitAsync(Generous);
        Assert.Equal(TimeSpan.FromSeconds(ttl), set.Ttl);
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), await armed.WaitAsync(Generous));
    }

    [Fact]
    public async Task Ipv6_only_and_dual_stack_answers()
    {
        _dns.SetAddresses(Name, [IPAddress.Parse("fd00::1"), IPAddress.Parse("fd00::2")]);
        ResolutionResult v4 = await Resolver(_dns.NameServer).ResolveAsync(Svc).AsTask().WaitAsync(Generous);
        Assert.Equal(ResolutionOutcome.NoData, v4.Outcome);

        ResolutionResult v6 = await Resolver(_dns.NameServer, o => o.AddressFamily = DnsAddressFamily.IPv6).ResolveAsync(Svc).AsTask().WaitAsync(Generous);
        Assert.Equal(["[fd00::1]:80", "[fd00::2]:80"], v6.Endpoints.Select(e => e.Key));

        _dns.SetAddresses(Name, [IPAddress.Parse("fd00::1"), IPAddress.Parse("10.9.0.1")]);
        ResolutionResult both = await Resolver(_dns.NameServer, o => o.AddressFamily = DnsAddressFamily.Both).ResolveAsync(Svc).AsTask().WaitAsync(Generous);
        Assert.Equal(["10.9.0.1:80", "[fd00::1]:80"], both.Endpoints.Select(e => e.Key));
    }

    [Fact]
    public async Task An_answer_too_large_for_one_dns_message_fails_and_keeps_the_set()
    {
        // 10 000 A records do not fit a DNS message (64 KiB even over TCP, about 4000 A records): the server
        // answers SERVFAIL. The live set keeps what it had.
        await AssertFaultKeepsTheSetAsync(() => _dns.SetAddresses(Name, Pods(10_000)));
    }

    [Fact]
    public async Task The_endpoint_cap_bounds_what_a_huge_answer_can_cost()
    {
        _dns.SetAddresses(Name, Pods(3500));
        ResolutionResult result = await Resolver(_dns.NameServer, o => o.MaxEndpoints = 1000).ResolveAsync(Svc).AsTask().WaitAsync(Generous);
        Assert.Equal(1000, result.Endpoints.Length);
        Assert.Equal(result.Endpoints.OrderBy(e => e).Select(e => e.Key), result.Endpoints.Select(e => e.Key));
    }

    private sealed class SwitchableResolver(IEndpointResolver inner) : IEndpointResolver
    {
        public IEndpointResolver Inner { get; set; } = inner;

        public ValueTask<ResolutionResult> ResolveAsync(ServiceName service, CancellationToken cancellationToken = default) =>
            Inner.ResolveAsync(service, cancellationToken);
    }
}
