using System.Buffers.Binary;
using System.Net;
using CsCheck;
using Headless.Discovery.Testing;
using Headless.Discovery.Tests.Reliability;
using Headless.Discovery.TestSupport;
using Microsoft.Extensions.Time.Testing;

namespace Headless.Discovery.Tests.Resolution;

/// <summary>
/// Answers too large for UDP are asked again over TCP, each on a connection of its own that is closed when the query
/// ends, answered or not; and a TCP answer reads exactly as the same answer over UDP.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class DnsTcpFallbackTests : IAsyncLifetime
{
    private const string Service = "web.default.svc.cluster.local";
    private const string Srv = "_http._tcp." + Service;
    private static readonly ServiceName Name = ServiceName.Parse(Service);

    private EmbeddedDnsServer _dns = null!;

    public async Task InitializeAsync() => _dns = await EmbeddedDnsServer.StartAsync();

    public async Task DisposeAsync() => await _dns.DisposeAsync();

    private static DnsResolver Resolver(string nameServer, Action<DnsEndpointResolverOptions>? configure = null, TimeProvider? time = null)
    {
        var options = new DnsEndpointResolverOptions { Port = 80, DnsAttemptTimeout = TimeSpan.FromSeconds(5), DnsRetryCount = 0 };
        options.DnsServers.Add(nameServer);
        configure?.Invoke(options);
        return new DnsResolver(options, timeProvider: time);
    }

    private static IPAddress V4(int i) => new(new byte[] { 10, 7, (byte)(i / 256), (byte)(i % 256) });

    private static void AssertNoConnectionHeld(IPEndPoint server, string when)
    {
        IReadOnlyList<string> held = ProcessTcpConnections.To(server);
        Assert.True(held.Count == 0, $"{when}: this process still holds {held.Count} TCP connection(s) to the DNS server: {string.Join("; ", held)}");
    }

    // ---- connections: one per query, closed when it ends ----

    [Theory]
    [InlineData("A")]
    [InlineData("A+AAAA")]
    [InlineData("SRV")]
    [InlineData("SRV, targets looked up over TCP")]
    public async Task No_dns_tcp_connection_outlives_its_round(string kind)
    {
        _dns.SetAddresses(Service, Enumerable.Range(1, 600).Select(V4));
        var targets = Enumerable.Range(0, 12).Select(i => new SrvTarget($"web-{i}.{Service}", 8080)).ToArray();
        for (int i = 0; i < targets.Length; i++)
        {
            _dns.SetAddresses(targets[i].Hostname, [V4(i + 1)]);
        }

        _dns.SetSrvRecords(Srv, targets, includeAddressesInAdditionalSection: kind == "SRV");
        if (kind != "A")
        {
            // Every UDP answer comes back truncated, so every query of the round goes over TCP.
            _dns.InjectFault(DnsFault.Truncate);
        }

        DnsResolver resolver = Resolver(_dns.NameServer, o =>
        {
            o.UseSrv = kind.StartsWith("SRV", StringComparison.Ordinal);
            o.AddressFamily = kind == "A+AAAA" ? DnsAddressFamily.Both : DnsAddressFamily.IPv4;
        });
        ServiceName name = kind.StartsWith("SRV", StringComparison.Ordinal) ? ServiceName.Parse(Srv) : Name;

        for (int round = 0; round < 3; round++)
        {
            long tcpBefore = _dns.TcpQueries;
            ResolutionResult result = await resolver.ResolveAsync(name).AsTask().WaitAsync(Generous);

            Assert.Equal(ResolutionOutcome.Success, result.Outcome);
            Assert.Equal(kind.StartsWith("SRV", StringComparison.Ordinal) ? 12 : 600, result.Endpoints.Length);
            Assert.True(_dns.TcpQueries > tcpBefore, "the round went over TCP");
            AssertNoConnectionHeld(_dns.EndPoint, $"after round {round}");
        }
    }

    [Fact]
    public async Task Each_tcp_query_opens_its_own_connection_and_closes_it_after_the_answer()
    {
        await using var raw = new RawDnsServer(DnsWire.Truncated, q => DnsWire.Framed(DnsWire.Response(q, answers: [DnsWire.ARecord("10.9.0.1"), DnsWire.ARecord("10.9.0.2")])));
        DnsResolver resolver = Resolver(raw.NameServer);

        for (int round = 1; round <= 3; round++)
        {
            ResolutionResult result = await resolver.ResolveAsync(Name).AsTask().WaitAsync(Generous);

            Assert.Equal(["10.9.0.1:80", "10.9.0.2:80"], result.Endpoints.Select(e => e.Key));
            Assert.Equal(round, raw.TcpConnectionsAccepted);
            await raw.WaitForClientClosesAsync(round).WaitAsync(Generous);
            AssertNoConnectionHeld(raw.EndPoint, $"after round {round}");
        }
    }

    [Fact]
    public async Task A_tcp_answer_that_never_comes_times_out_and_its_connection_is_closed()
    {
        var time = new FakeTimeProvider();
        var asked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var raw = new RawDnsServer(DnsWire.Truncated, _ =>
        {
            asked.TrySetResult();
            return null;
        });
        DnsResolver resolver = Resolver(raw.NameServer, o => o.DnsAttemptTimeout = TimeSpan.FromSeconds(2), time);

        Task<ResolutionResult> resolving = resolver.ResolveAsync(Name).AsTask();
        await asked.Task.WaitAsync(Generous);
        time.Advance(TimeSpan.FromSeconds(2));
        ResolutionResult result = await resolving.WaitAsync(Generous);

        Assert.Equal(ResolutionOutcome.Failed, result.Outcome);
        Assert.True(Assert.IsType<DnsResolutionException>(result.Error).IsTimeout, result.Error!.Message);
        await raw.WaitForClientClosesAsync(1).WaitAsync(Generous);
        AssertNoConnectionHeld(raw.EndPoint, "after the timed-out round");
    }

    [Fact]
    public async Task Cancelling_a_round_during_its_tcp_query_closes_the_connection()
    {
        var asked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var raw = new RawDnsServer(DnsWire.Truncated, _ =>
        {
            asked.TrySetResult();
            return null;
        });
        DnsResolver resolver = Resolver(raw.NameServer, o => o.DnsAttemptTimeout = TimeSpan.FromMinutes(1));
        using var cts = new CancellationTokenSource();

        Task<ResolutionResult> resolving = resolver.ResolveAsync(Name, cts.Token).AsTask();
        await asked.Task.WaitAsync(Generous);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => resolving.WaitAsync(Generous));
        await raw.WaitForClientClosesAsync(1).WaitAsync(Generous);
        AssertNoConnectionHeld(raw.EndPoint, "after the cancelled round");
    }

    [Fact]
    public async Task A_refused_tcp_connection_is_a_failure_that_names_the_tcp_query()
    {
        _dns.SetAddresses(Service, [V4(1)]);
        _dns.InjectFault(DnsFault.Truncate);
        _dns.TcpEnabled = false;

        ResolutionResult result = await Resolver(_dns.NameServer).ResolveAsync(Name).AsTask().WaitAsync(Generous);

        Assert.Equal(ResolutionOutcome.Failed, result.Outcome);
        Assert.Contains("TCP", result.Error!.Message, StringComparison.Ordinal);
        Assert.Contains(_dns.NameServer, result.Error.Message, StringComparison.Ordinal);
    }

    // ---- malformed TCP answers ----

    [Theory]
    [InlineData("mismatched-id")]
    [InlineData("truncated-over-tcp")]
    [InlineData("another-question")]
    [InlineData("not-a-response")]
    [InlineData("short-header")]
    [InlineData("counts-lie")]
    [InlineData("rdlength-lie")]
    [InlineData("pointer-loop")]
    [InlineData("hang-up-mid-answer")]
    [InlineData("hang-up-before-answer")]
    [InlineData("empty-message")]
    public async Task Malformed_tcp_answers_are_failures_and_their_connection_is_closed(string kind)
    {
        await using var raw = new RawDnsServer(
            DnsWire.Truncated,
            q =>
            {
                byte[] good = DnsWire.Response(q, answers: [DnsWire.ARecord("10.9.0.1")]);
                return kind switch
                {
                    "mismatched-id" => DnsWire.Framed(DnsWire.Response(q, id: (ushort)(DnsWire.Id(q) + 1), answers: [DnsWire.ARecord("10.66.6.6")])),
                    "truncated-over-tcp" => DnsWire.Framed(DnsWire.Truncated(q)),
                    "another-question" => DnsWire.Framed(ReplaceQuestion(good, "other.default.svc.cluster.local")),
                    "not-a-response" => DnsWire.Framed(ClearQr(good)),
                    "short-header" => DnsWire.Framed(good[..5]),
                    "counts-lie" => DnsWire.Framed(good[..^16]),
                    "rdlength-lie" => DnsWire.Framed(WithLastRdLength(good, 5)),
                    "pointer-loop" => DnsWire.Framed(DnsWire.Response(q, answers: [DnsWire.Record([0xC0, (byte)(good.Length - 16)], DnsWire.A, 30, [10, 9, 0, 1])])),
                    "hang-up-mid-answer" => DnsWire.Framed(good)[..(good.Length / 2)],
                    "hang-up-before-answer" => [],
                    _ => DnsWire.Framed([]),
                };
            },
            closeAfterTcpAnswer: kind.StartsWith("hang-up", StringComparison.Ordinal));

        ResolutionResult result = await Resolver(raw.NameServer).ResolveAsync(Name).AsTask().WaitAsync(Generous);

        Assert.Equal(ResolutionOutcome.Failed, result.Outcome);
        Assert.IsType<DnsResolutionException>(result.Error);
        AssertNoConnectionHeld(raw.EndPoint, "after the failed round");
    }

    [Fact]
    public async Task Any_bytes_over_tcp_give_a_result_and_leave_no_connection()
    {
        // Mutations of a valid answer (so most get past the header checks and exercise the record reader) and raw noise.
        Gen<(int Position, byte Value)[]> mutations = Gen.Select(Gen.Int[0, 200], Gen.Byte).Array[1, 6];
        Gen<byte[]> noise = Gen.Byte.Array[0, 120];
        byte[] reply = [];
        await using var raw = new RawDnsServer(
            DnsWire.Truncated,
            q =>
            {
                // Whatever the bytes, they carry the query's id, or nearly every reply would fail the id check alone.
                byte[] answer = [.. Volatile.Read(ref reply)];
                if (answer.Length >= 2)
                {
                    BinaryPrimitives.WriteUInt16BigEndian(answer, DnsWire.Id(q));
                }

                return DnsWire.Framed(answer);
            },
            closeAfterTcpAnswer: true);
        DnsResolver resolver = Resolver(raw.NameServer);
        byte[] query = [.. new byte[12], .. DnsWire.Name(Service), 0, 1, 0, 1];
        byte[] template = DnsWire.Response(
            query,
            answers: [DnsWire.ARecord("10.9.0.1"), DnsWire.CnameRecord(Service, "x." + Service), DnsWire.ARecord("10.9.0.2", owner: "x." + Service)]);

        await Property.ForAllAsync(
            Gen.Select(mutations, noise, Gen.Bool),
            iterations: 150,
            seed: 0x10130001UL,
            async (mutation, bytes, useNoise) =>
            {
                byte[] next = useNoise ? bytes : [.. template];
                if (!useNoise)
                {
                    foreach ((int position, byte value) in mutation)
                    {
                        next[2 + (position % (next.Length - 2))] = value;
                    }
                }

                Volatile.Write(ref reply, next);
                ResolutionResult result = await resolver.ResolveAsync(Name).AsTask().WaitAsync(Generous);

                Assert.True(result.Outcome != ResolutionOutcome.Failed || result.Error is DnsResolutionException, result.ToString());
                AssertNoConnectionHeld(raw.EndPoint, "after the round");
            });
    }

    // ---- TCP reads as UDP ----

    [Fact]
    public async Task An_answer_over_tcp_reads_exactly_as_one_over_udp()
    {
        // Addresses include ones hygiene drops (unspecified, multicast, broadcast), so dropping works alike too.
        Gen<IPAddress> address = Gen.Frequency(
            (6, Gen.Int[1, 250].Select(i => V4(i))),
            (3, Gen.Int[1, 250].Select(i => IPAddress.Parse($"fd00::{i:x}"))),
            (1, Gen.OneOf(IPAddress.Any, IPAddress.Parse("224.0.0.1"), IPAddress.Broadcast, IPAddress.IPv6Any, IPAddress.Parse("ff02::1"))));
        Gen<Zone> zone = Gen.Select(
            address.Array[0, 30],
            Gen.Int[0, 3600],
            Gen.OneOf(DnsAddressFamily.IPv4, DnsAddressFamily.IPv6, DnsAddressFamily.Both),
            Gen.Int[0, 3],
            Gen.Select(Gen.Int[0, 2], address.Array[0, 3], Gen.Int[0, 600]).Array[1, 6]).Select(
            (addresses, ttl, family, shape, targets) => new Zone(addresses, ttl, family, shape, targets));

        await Property.ForAllAsync(
            zone,
            iterations: 120,
            seed: 0x10130002UL,
            async z =>
            {
                _dns.Clear();
                _dns.ClearFaults();
                ServiceName name = z.Load(_dns);
                DnsResolver resolver = Resolver(_dns.NameServer, o =>
                {
                    o.AddressFamily = z.Family;
                    o.UseSrv = z.UseSrv;
                });

                long tcpBefore = _dns.TcpQueries;
                ResolutionResult overUdp = await resolver.ResolveAsync(name).AsTask().WaitAsync(Generous);
                Assert.Equal(tcpBefore, _dns.TcpQueries);
                _dns.InjectFault(DnsFault.Truncate);
                ResolutionResult overTcp = await resolver.ResolveAsync(name).AsTask().WaitAsync(Generous);
                Assert.True(_dns.TcpQueries > tcpBefore, "the second round went over TCP");

                Assert.Equal(overUdp.Outcome, overTcp.Outcome);
                Assert.Equal(overUdp.Endpoints.Select(e => e.ToString()), overTcp.Endpoints.Select(e => e.ToString()));
                Assert.Equal(overUdp.Ttl, overTcp.Ttl);
                Assert.Equal(overUdp.Error?.Message, overTcp.Error?.Message);
            });
    }

    [Fact]
    public async Task A_cname_chain_over_tcp_reads_as_over_udp()
    {
        const string alias = "alias." + Service;
        await using var raw = new RawDnsServer(
            q => DnsWire.Response(q, answers: [DnsWire.CnameRecord(Service, alias, ttl: 7), DnsWire.ARecord("10.9.0.1", ttl: 30, owner: alias), DnsWire.ARecord("10.66.6.6", owner: "foreign." + Service)]),
            q => DnsWire.Framed(DnsWire.Response(q, answers: [DnsWire.CnameRecord(Service, alias, ttl: 7), DnsWire.ARecord("10.9.0.1", ttl: 30, owner: alias), DnsWire.ARecord("10.66.6.6", owner: "foreign." + Service)])));
        ResolutionResult overUdp = await Resolver(raw.NameServer).ResolveAsync(Name).AsTask().WaitAsync(Generous);

        await using var truncating = new RawDnsServer(
            DnsWire.Truncated,
            q => DnsWire.Framed(DnsWire.Response(q, answers: [DnsWire.CnameRecord(Service, alias, ttl: 7), DnsWire.ARecord("10.9.0.1", ttl: 30, owner: alias), DnsWire.ARecord("10.66.6.6", owner: "foreign." + Service)])));
        ResolutionResult overTcp = await Resolver(truncating.NameServer).ResolveAsync(Name).AsTask().WaitAsync(Generous);

        Assert.Equal(["10.9.0.1:80"], overUdp.Endpoints.Select(e => e.Key));
        Assert.Equal(TimeSpan.FromSeconds(7), overUdp.Ttl);
        Assert.Equal(overUdp.Endpoints.Select(e => e.ToString()), overTcp.Endpoints.Select(e => e.ToString()));
        Assert.Equal(overUdp.Ttl, overTcp.Ttl);
        Assert.Equal(1, truncating.TcpQueries);
    }

    private static byte[] ReplaceQuestion(byte[] response, string name)
    {
        int end = 12;
        while (response[end] != 0)
        {
            end += response[end] + 1;
        }

        // The answers point at offset 12 for their owner, which now is the other name: a consistent answer to another question.
        return [.. response[..12], .. DnsWire.Name(name), .. response[(end + 1)..]];
    }

    private static byte[] ClearQr(byte[] response)
    {
        byte[] copy = [.. response];
        copy[2] &= 0x7F;
        return copy;
    }

    private static byte[] WithLastRdLength(byte[] response, ushort length)
    {
        byte[] copy = [.. response];
        BinaryPrimitives.WriteUInt16BigEndian(copy.AsSpan(copy.Length - 6), length);
        return copy;
    }

    /// <summary>A generated zone: the service's addresses, or an SRV record set whose targets have addresses.</summary>
    private sealed record Zone(IPAddress[] Addresses, int TtlSeconds, DnsAddressFamily Family, int Shape, (int Kind, IPAddress[] Addresses, int Port)[] Targets)
    {
        // Shape 0: addresses; 1: the name does not exist; 2: SRV with additional section; 3: SRV, targets looked up.
        public bool UseSrv => Shape >= 2;

        public ServiceName Load(EmbeddedDnsServer dns)
        {
            TimeSpan ttl = TimeSpan.FromSeconds(TtlSeconds);
            switch (Shape)
            {
                case 0:
                    dns.SetAddresses(Service, Addresses.Distinct(), ttl);
                    return Name;
                case 1:
                    return Name;
                default:
                    var targets = new List<SrvTarget>();
                    for (int i = 0; i < Targets.Length; i++)
                    {
                        (int kind, IPAddress[] addresses, int port) = Targets[i];
                        string host = $"web-{i}.{Service}";
                        targets.Add(new SrvTarget(host, port));

                        // Kind 0: has addresses; 1: exists without addresses (NODATA); 2: does not exist (NXDOMAIN).
                        if (kind != 2)
                        {
                            dns.SetAddresses(host, kind == 0 ? addresses.Distinct() : [], ttl);
                        }
                    }

                    dns.SetSrvRecords(Srv, targets, ttl, includeAddressesInAdditionalSection: Shape == 2);
                    return ServiceName.Parse(Srv);
            }
        }
    }
}
