using System.Net;
using System.Net.Sockets;
using DnsClient;
using DnsClient.Protocol;
using Headless.Discovery.TestSupport;

namespace Headless.Discovery.Testing.Tests;

public sealed class EmbeddedDnsServerTests
{
    private const string Service = "web.default.svc.cluster.local";
    private static readonly IPAddress Ip1 = IPAddress.Parse("10.0.0.1");
    private static readonly IPAddress Ip2 = IPAddress.Parse("10.0.0.2");
    private static readonly IPAddress Ip6 = IPAddress.Parse("fd00::1");

    [Fact]
    public async Task Serves_A_records_with_ttl_case_insensitively()
    {
        await using var server = await EmbeddedDnsServer.StartAsync();
        server.SetAddresses(Service + ".", [Ip1, Ip2], TimeSpan.FromSeconds(7));

        var response = await DnsTestClient.Create(server).QueryAsync("WEB.Default.svc.cluster.local", QueryType.A);

        Assert.Equal(DnsHeaderResponseCode.NoError, response.Header.ResponseCode);
        Assert.True(response.Header.HasAuthorityAnswer);
        Assert.Equal([Ip1, Ip2], response.Addresses());
        Assert.All(response.Answers, r => Assert.Equal(7, r.InitialTimeToLive));
        Assert.Equal(1, server.GetQueryCount(DnsRecordType.A));
        Assert.Equal(1, server.UdpQueries);
        Assert.Equal($"127.0.0.1:{server.EndPoint.Port}", server.NameServer);
    }

    /// <summary>
    /// A server started on a thread whose synchronization context never runs posted work (a test framework's busy
    /// worker) still answers over UDP and TCP: it serves from the thread pool.
    /// </summary>
    [Fact]
    public async Task A_server_started_under_a_busy_synchronization_context_still_answers()
    {
        var held = new HeldSynchronizationContext();
        Task<EmbeddedDnsServer> starting = held.Run(() => EmbeddedDnsServer.StartAsync());
        await using EmbeddedDnsServer server = await starting.WaitAsync(Generous);
        try
        {
            server.SetAddresses(Service, [Ip1]);

            var udp = await DnsTestClient.Create(server).QueryAsync(Service, QueryType.A).WaitAsync(Generous);
            var tcp = await DnsTestClient.Create(server, useTcpOnly: true).QueryAsync(Service, QueryType.A).WaitAsync(Generous);

            Assert.Equal([Ip1], udp.Addresses());
            Assert.Equal([Ip1], tcp.Addresses());
            Assert.Equal(0, held.Posted);
        }
        finally
        {
            held.Release();
        }
    }

    [Fact]
    public async Task Splits_addresses_into_A_and_AAAA_with_default_ttl()
    {
        await using var server = await EmbeddedDnsServer.StartAsync();
        server.SetAddresses(Service, [Ip1, Ip6]);
        var client = DnsTestClient.Create(server);

        var a = await client.QueryAsync(Service, QueryType.A);
        var aaaa = await client.QueryAsync(Service, QueryType.AAAA);

        Assert.Equal([Ip1], a.Addresses());
        Assert.Equal([Ip6], aaaa.Addresses());
        Assert.Equal(5, Assert.Single(aaaa.Answers).InitialTimeToLive);
        Assert.Equal(1, server.GetQueryCount(DnsRecordType.Aaaa));
    }

    [Fact]
    public async Task Listens_on_ipv6_loopback()
    {
        await using var server = await EmbeddedDnsServer.StartAsync(IPAddress.IPv6Loopback);
        server.SetAddresses(Service, [Ip1]);

        var response = await DnsTestClient.Create(server).QueryAsync(Service, QueryType.A);

        Assert.Equal([Ip1], response.Addresses());
        Assert.StartsWith("[::1]:", server.NameServer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serves_SRV_with_target_addresses_in_additional_section()
    {
        await using var server = await EmbeddedDnsServer.StartAsync();
        server.SetAddresses("web-0." + Service, [Ip1]);
        server.SetAddresses("web-1." + Service, [Ip2, Ip6]);
        server.SetSrvRecords("_http._tcp." + Service, [new SrvTarget("web-0." + Service, 8080), new SrvTarget("web-1." + Service + ".", 8081, priority: 1, weight: 5)]);

        var response = await DnsTestClient.Create(server).QueryAsync("_http._tcp." + Service, QueryType.SRV);

        var srv = response.Answers.SrvRecords().ToArray();
        Assert.Equal(2, srv.Length);
        Assert.Equal(("web-0." + Service + ".", 8080, 0, 0), (srv[0].Target.Value, (int)srv[0].Port, (int)srv[0].Priority, (int)srv[0].Weight));
        Assert.Equal(("web-1." + Service + ".", 8081, 1, 5), (srv[1].Target.Value, (int)srv[1].Port, (int)srv[1].Priority, (int)srv[1].Weight));
        var additional = response.Additionals.OfType<AddressRecord>().Select(r => (r.DomainName.Value, r.Address)).ToArray();
        Assert.Equal([("web-0." + Service + ".", Ip1), ("web-1." + Service + ".", Ip2), ("web-1." + Service + ".", Ip6)], additional);
    }

    [Fact]
    public async Task Srv_without_additional_section_requires_follow_up_lookups()
    {
        await using var server = await EmbeddedDnsServer.StartAsync();
        server.SetAddresses("web-0." + Service, [Ip1]);
        server.SetSrvRecords("_http._tcp." + Service, [new SrvTarget("web-0." + Service, 8080)], includeAddressesInAdditionalSection: false);
        var client = DnsTestClient.Create(server);

        var srv = await client.QueryAsync("_http._tcp." + Service, QueryType.SRV);
        var followUp = await client.QueryAsync(srv.Answers.SrvRecords().Single().Target.Value, QueryType.A);

        Assert.Empty(srv.Additionals.OfType<AddressRecord>());
        Assert.Equal([Ip1], followUp.Addresses());
    }

    [Fact]
    public async Task Unknown_name_is_NXDOMAIN_and_known_name_without_type_is_NODATA_both_with_SOA()
    {
        await using var server = await EmbeddedDnsServer.StartAsync();
        server.SetAddresses(Service, [Ip1]);
        server.SetAddresses("empty." + Service, []);
        server.NegativeTtl = TimeSpan.FromSeconds(30);
        var client = DnsTestClient.Create(server);

        var unknown = await client.QueryAsync("missing." + Service, QueryType.A);
        var noAaaa = await client.QueryAsync(Service, QueryType.AAAA);
        var empty = await client.QueryAsync("empty." + Service, QueryType.A);

        Assert.Equal(DnsHeaderResponseCode.NotExistentDomain, unknown.Header.ResponseCode);
        var soa = Assert.Single(unknown.Authorities.SoaRecords());
        Assert.Equal("cluster.local.", soa.DomainName.Value);
        Assert.Equal(30u, soa.Minimum);
        Assert.Equal(DnsHeaderResponseCode.NoError, noAaaa.Header.ResponseCode);
        Assert.Empty(noAaaa.Answers);
        Assert.Single(noAaaa.Authorities.SoaRecords());
        Assert.Equal(DnsHeaderResponseCode.NoError, empty.Header.ResponseCode);
        Assert.Empty(empty.Answers);
    }

    [Fact]
    public async Task RemoveName_and_Clear_turn_names_into_NXDOMAIN()
    {
        await using var server = await EmbeddedDnsServer.StartAsync();
        server.SetAddresses(Service, [Ip1]);
        server.SetAddresses("other." + Service, [Ip2]);
        var client = DnsTestClient.Create(server);

        Assert.True(server.RemoveName(Service.ToUpperInvariant() + "."));
        Assert.False(server.RemoveName(Service));
        var removed = await client.QueryAsync(Service, QueryType.A);
        var kept = await client.QueryAsync("other." + Service, QueryType.A);
        server.Clear();
        var cleared = await client.QueryAsync("other." + Service, QueryType.A);

        Assert.Equal(DnsHeaderResponseCode.NotExistentDomain, removed.Header.ResponseCode);
        Assert.Equal([Ip2], kept.Addresses());
        Assert.Equal(DnsHeaderResponseCode.NotExistentDomain, cleared.Header.ResponseCode);
    }

    [Theory]
    [InlineData(DnsFault.ServerFailure, DnsHeaderResponseCode.ServerFailure)]
    [InlineData(DnsFault.NameError, DnsHeaderResponseCode.NotExistentDomain)]
    [InlineData(DnsFault.Refused, DnsHeaderResponseCode.Refused)]
    public async Task Response_code_faults_replace_the_answer_for_the_given_count(DnsFault fault, DnsHeaderResponseCode expected)
    {
        await using var server = await EmbeddedDnsServer.StartAsync();
        server.SetAddresses(Service, [Ip1]);
        server.InjectFault(fault, count: 2);
        var client = DnsTestClient.Create(server);

        var first = await client.QueryAsync(Service, QueryType.A);
        var second = await client.QueryAsync(Service, QueryType.A);
        var third = await client.QueryAsync(Service, QueryType.A);

        Assert.Equal(expected, first.Header.ResponseCode);
        Assert.Empty(first.Answers);
        Assert.Equal(expected, second.Header.ResponseCode);
        Assert.Equal(DnsHeaderResponseCode.NoError, third.Header.ResponseCode);
        Assert.Equal([Ip1], third.Addresses());
        Assert.Equal([fault, fault, DnsFault.None], server.Queries.Select(q => q.Fault));
    }

    [Fact]
    public async Task Fault_for_a_name_leaves_other_names_alone_and_takes_precedence()
    {
        await using var server = await EmbeddedDnsServer.StartAsync();
        server.SetAddresses(Service, [Ip1]);
        server.SetAddresses("other." + Service, [Ip2]);
        server.InjectFault(DnsFault.ServerFailure, Service.ToUpperInvariant());
        var client = DnsTestClient.Create(server);

        var faulted = await client.QueryAsync(Service, QueryType.A);
        var other = await client.QueryAsync("other." + Service, QueryType.A);
        server.InjectFault(DnsFault.Refused);
        var stillNameFault = await client.QueryAsync(Service, QueryType.A);
        var globalFault = await client.QueryAsync("other." + Service, QueryType.A);
        server.ClearFaults();
        var healed = await client.QueryAsync(Service, QueryType.A);

        Assert.Equal(DnsHeaderResponseCode.ServerFailure, faulted.Header.ResponseCode);
        Assert.Equal([Ip2], other.Addresses());
        Assert.Equal(DnsHeaderResponseCode.ServerFailure, stillNameFault.Header.ResponseCode);
        Assert.Equal(DnsHeaderResponseCode.Refused, globalFault.Header.ResponseCode);
        Assert.Equal([Ip1], healed.Addresses());
    }

    [Fact]
    public async Task Drop_fault_makes_the_client_time_out_once()
    {
        await using var server = await EmbeddedDnsServer.StartAsync();
        server.SetAddresses(Service, [Ip1]);
        server.InjectFault(DnsFault.Drop, Service, count: 1);
        // Long enough that a loaded machine still sends the query before the client gives up: a query cancelled
        // before it left would let the next one take the drop.
        var client = DnsTestClient.Create(server, timeout: TimeSpan.FromSeconds(1));

        var ex = await Assert.ThrowsAsync<DnsResponseException>(() => client.QueryAsync(Service, QueryType.A));
        await server.WaitForQueriesAsync(1, q => q.Fault == DnsFault.Drop).WaitAsync(Generous);
        var next = await DnsTestClient.Create(server, timeout: Generous).QueryAsync(Service, QueryType.A);

        Assert.Equal(DnsResponseCode.ConnectionTimeout, ex.Code);
        Assert.Equal([Ip1], next.Addresses());
        Assert.Equal(DnsFault.Drop, server.Queries[0].Fault);
    }

    [Fact]
    public async Task Truncate_fault_sets_TC_over_UDP_and_the_client_gets_the_answer_over_TCP()
    {
        await using var server = await EmbeddedDnsServer.StartAsync();
        server.SetAddresses(Service, [Ip1, Ip2]);
        server.InjectFault(DnsFault.Truncate);

        var udpOnly = await RawDns.QueryUdpAsync(server.EndPoint, Service, 1);
        var noFallback = await Assert.ThrowsAsync<DnsResponseException>(
            () => DnsTestClient.Create(server, tcpFallback: false).QueryAsync(Service, QueryType.A));
        var withFallback = await DnsTestClient.Create(server).QueryAsync(Service, QueryType.A);

        Assert.True(udpOnly.Truncated);
        Assert.Equal(0, udpOnly.ResponseCode);
        Assert.Equal(0, udpOnly.AnswerCount);
        Assert.Contains("truncated", noFallback.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal([Ip1, Ip2], withFallback.Addresses());
        Assert.Equal(3, server.UdpQueries);
        Assert.Equal(1, server.TcpQueries);
        Assert.Equal(DnsFault.None, server.Queries.Single(q => q.Transport == DnsTransport.Tcp).Fault);
    }

    [Fact]
    public async Task Truncated_answer_with_TCP_disabled_fails_the_fallback_and_TCP_can_be_reenabled()
    {
        await using var server = await EmbeddedDnsServer.StartAsync();
        server.SetAddresses(Service, [Ip1]);
        server.InjectFault(DnsFault.Truncate);
        server.TcpEnabled = false;
        var client = DnsTestClient.Create(server);

        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            var refused = await Assert.ThrowsAsync<SocketException>(async () => await probe.ConnectAsync(server.EndPoint));
            Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        }

        var failed = await Record.ExceptionAsync(() => client.QueryAsync(Service, QueryType.A));
        server.TcpEnabled = true;
        var recovered = await client.QueryAsync(Service, QueryType.A);

        Assert.IsType<DnsResponseException>(failed);
        Assert.Equal([Ip1], recovered.Addresses());
        Assert.Equal(0 + 1, server.TcpQueries);
    }

    [Fact]
    public async Task Serves_3000_A_records_truncated_over_UDP_and_complete_over_TCP()
    {
        await using var server = await EmbeddedDnsServer.StartAsync();
        var addresses = Enumerable.Range(0, 3000).Select(i => new IPAddress([10, 1, (byte)(i / 250), (byte)(1 + (i % 250))])).ToArray();
        server.SetAddresses(Service, addresses);

        var udpOnly = await RawDns.QueryUdpAsync(server.EndPoint, Service, 1);
        var withFallback = await DnsTestClient.Create(server).QueryAsync(Service, QueryType.A);

        Assert.True(udpOnly.Truncated);
        Assert.InRange(udpOnly.Length, 12, 512);
        Assert.InRange(udpOnly.AnswerCount, 0, 2999);
        Assert.False(withFallback.Header.ResultTruncated);
        Assert.Equal(addresses, withFallback.Addresses());
        Assert.Equal(1, server.TcpQueries);
        Assert.Equal(2, server.UdpQueries);
    }

    [Fact]
    public async Task Response_delay_longer_than_the_client_timeout_times_out_and_shorter_delay_answers()
    {
        await using var server = await EmbeddedDnsServer.StartAsync();
        server.SetAddresses(Service, [Ip1]);
        server.ResponseDelay = TimeSpan.FromSeconds(30);

        var ex = await Assert.ThrowsAsync<DnsResponseException>(
            () => DnsTestClient.Create(server, timeout: TimeSpan.FromMilliseconds(300)).QueryAsync(Service, QueryType.A));
        server.ResponseDelay = TimeSpan.FromMilliseconds(50);
        var answered = await DnsTestClient.Create(server, timeout: Generous).QueryAsync(Service, QueryType.A);

        Assert.Equal(DnsResponseCode.ConnectionTimeout, ex.Code);
        Assert.Equal([Ip1], answered.Addresses());
    }

    [Fact]
    public async Task Pause_receives_but_does_not_answer_and_Resume_answers_again_on_the_same_port()
    {
        await using var server = await EmbeddedDnsServer.StartAsync();
        server.SetAddresses(Service, [Ip1]);
        var client = DnsTestClient.Create(server, timeout: TimeSpan.FromSeconds(1)); // sent before it gives up, even when loaded
        var port = server.EndPoint.Port;

        server.Pause();
        var ex = await Assert.ThrowsAsync<DnsResponseException>(() => client.QueryAsync(Service, QueryType.A));
        var received = await server.WaitForQueriesAsync(1).WaitAsync(Generous);
        server.Resume();
        var answered = await DnsTestClient.Create(server).QueryAsync(Service, QueryType.A);

        Assert.Equal(DnsResponseCode.ConnectionTimeout, ex.Code);
        Assert.Equal(DnsFault.Drop, Assert.Single(received).Fault);
        Assert.Equal([Ip1], answered.Addresses());
        Assert.Equal(port, server.EndPoint.Port);
        Assert.False(server.IsPaused);
    }

    [Fact]
    public async Task WaitForQueriesAsync_sees_past_and_future_queries_and_honours_cancellation()
    {
        await using var server = await EmbeddedDnsServer.StartAsync();
        server.SetAddresses(Service, [Ip1]);
        var client = DnsTestClient.Create(server);
        await client.QueryAsync(Service, QueryType.A);

        var past = await server.WaitForQueriesAsync(1, q => q.Type == DnsRecordType.A).WaitAsync(Generous);
        var future = server.WaitForQueriesAsync(1, q => q.Type == DnsRecordType.Srv);
        Assert.False(future.IsCompleted);
        await client.QueryAsync("_x._tcp." + Service, QueryType.SRV);
        var srv = await future.WaitAsync(Generous);
        using var cts = new CancellationTokenSource();
        var never = server.WaitForQueriesAsync(100, cancellationToken: cts.Token);
        await cts.CancelAsync();

        Assert.Equal(Service, Assert.Single(past).Name);
        Assert.Equal("_x._tcp." + Service, Assert.Single(srv).Name);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => never);
        Assert.Equal(2, server.TotalQueries);
        server.ResetCounters();
        Assert.Equal(0, server.TotalQueries);
        Assert.Empty(server.Queries);
    }

    [Fact]
    public async Task Dispose_closes_both_ports_and_fails_pending_waits()
    {
        var server = await EmbeddedDnsServer.StartAsync();
        var pending = server.WaitForQueriesAsync();
        var endPoint = server.EndPoint;

        await server.DisposeAsync();
        await server.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => pending);
        using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var refused = await Assert.ThrowsAsync<SocketException>(async () => await tcp.ConnectAsync(endPoint));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        udp.Bind(endPoint); // the UDP port is free again
    }

    [Fact]
    public async Task Rejects_bad_arguments_with_clear_exceptions()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => EmbeddedDnsServer.StartAsync(IPAddress.Parse("10.1.2.3")));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => EmbeddedDnsServer.StartAsync(port: 70000));
        await using var server = await EmbeddedDnsServer.StartAsync();

        Assert.Throws<ArgumentException>(() => server.SetAddresses("", [Ip1]));
        Assert.Throws<ArgumentException>(() => server.SetAddresses("a..b", [Ip1]));
        Assert.Throws<ArgumentException>(() => server.SetAddresses(new string('x', 64) + ".local", [Ip1]));
        Assert.Throws<ArgumentNullException>(() => server.SetAddresses(Service, null!));
        Assert.Throws<ArgumentOutOfRangeException>(() => server.SetAddresses(Service, [Ip1], TimeSpan.FromSeconds(-1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SrvTarget("a.b", 65536));
        Assert.Throws<ArgumentOutOfRangeException>(() => server.InjectFault(DnsFault.Drop, count: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => server.ResponseDelay = TimeSpan.FromSeconds(-1));
    }

    [Fact]
    public async Task Explicit_port_in_use_is_reported()
    {
        await using var first = await EmbeddedDnsServer.StartAsync();

        await Assert.ThrowsAsync<SocketException>(() => EmbeddedDnsServer.StartAsync(port: first.EndPoint.Port));
    }
}
