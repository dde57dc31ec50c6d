using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Time.Testing;
using System.Net;
using Headless.Discovery.Testing;

namespace Headless.Discovery.Tests.Resolution;

public sealed class DnsEndpointResolverTests : IAsyncLifetime
{
    private const string Service = "web.default.svc.cluster.local";
    private static readonly ServiceName Name = ServiceName.Parse(Service);

    private EmbeddedDnsServer _dns = null!;

    public async Task InitializeAsync() => _dns = await EmbeddedDnsServer.StartAsync();

    public async Task DisposeAsync() => await _dns.DisposeAsync();

    private DnsResolver Resolver(Action<DnsEndpointResolverOptions>? configure = null, params EmbeddedDnsServer[] servers)
    {
        var options = new DnsEndpointResolverOptions
        {
            DnsAttemptTimeout = TimeSpan.FromSeconds(5),
            DnsRetryCount = 2,
            DnsRetryBaseDelay = TimeSpan.Zero,
        };
        foreach (EmbeddedDnsServer server in servers.Length == 0 ? [_dns] : servers)
        {
            options.DnsServers.Add(server.NameServer);
        }

        configure?.Invoke(options);
        return new DnsResolver(options);
    }

    private static IPAddress[] Ips(params string[] addresses) => addresses.Select(IPAddress.Parse).ToArray();

    private static string[] Keys(ResolutionResult result) => result.Endpoints.Select(e => e.ToString()).ToArray();

    [Fact]
    public async Task A_records_become_endpoints_with_the_configured_port()
    {
        _dns.SetAddresses(Service, Ips("10.0.0.2", "10.0.0.1"));
        ResolutionResult result = await Resolver(o => o.Port = 8080).ResolveAsync(Name).AsTask().WaitAsync(Generous);

        Assert.Equal(ResolutionOutcome.Success, result.Outcome);
        Assert.Equal(["10.0.0.1:8080", "10.0.0.2:8080"], Keys(result));
        Assert.Equal(TimeSpan.FromSeconds(5), result.Ttl);
        Assert.Equal(1, _dns.GetQueryCount(DnsRecordType.A));
        Assert.Equal(0, _dns.GetQueryCount(DnsRecordType.Aaaa));
    }

    [Fact]
    public async Task AAAA_only_asks_for_AAAA()
    {
        _dns.SetAddresses(Service, Ips("10.0.0.1", "fd00::2"));
        ResolutionResult result = await Resolver(o => o.AddressFamily = DnsAddressFamily.IPv6).ResolveAsync(Name).AsTask().WaitAsync(Generous);

        Assert.Equal(["[fd00::2]:0"], Keys(result));
        Assert.Equal(0, _dns.GetQueryCount(DnsRecordType.A));
    }

    [Fact]
    public async Task Both_families_are_queried_and_unioned()
    {
        _dns.SetAddresses(Service, Ips("10.0.0.1", "fd00::2", "fd00::1"));
        ResolutionResult result = await Resolver(o => o.AddressFamily = DnsAddressFamily.Both).ResolveAsync(Name).AsTask().WaitAsync(Generous);

        Assert.Equal(["10.0.0.1:0", "[fd00::1]:0", "[fd00::2]:0"], Keys(result));
        Assert.Equal(1, _dns.GetQueryCount(DnsRecordType.A));
        Assert.Equal(1, _dns.GetQueryCount(DnsRecordType.Aaaa));
    }

    [Fact]
    public async Task Both_families_with_only_IPv4_records_succeed()
    {
        _dns.SetAddresses(Service, Ips("10.0.0.1"));
        ResolutionResult result = await Resolver(o => o.AddressFamily = DnsAddressFamily.Both).ResolveAsync(Name).AsTask().WaitAsync(Generous);

        Assert.Equal(ResolutionOutcome.Success, result.Outcome);
        Assert.Equal(["10.0.0.1:0"], Keys(result));
    }

    [Fact]
    public async Task Both_families_fail_when_one_family_fails_so_the_last_known_set_is_kept()
    {
        _dns.SetAddresses(Service, Ips("10.0.0.1", "fd00::1"));
        // Exactly one of the two parallel queries (whichever arrives first) gets SERVFAIL; the other succeeds.
        _dns.InjectFault(DnsFault.ServerFailure, Service, count: 1);
        ResolutionResult result = await Resolver(o => { o.AddressFamily = DnsAddressFamily.Both; o.DnsRetryCount = 0; }).ResolveAsync(Name).AsTask().WaitAsync(Generous);

        Assert.Equal(ResolutionOutcome.Failed, result.Outcome);
        Assert.Empty(result.Endpoints);
        Assert.Equal(2, _dns.TotalQueries);
    }

    [Fact]
    public async Task NXDOMAIN_is_NotFound_with_the_SOA_ttl_and_is_not_retried()
    {
        _dns.NegativeTtl = TimeSpan.FromSeconds(17);
        ResolutionResult result = await Resolver(o => o.DnsRetryCount = 3).ResolveAsync(Name).AsTask().WaitAsync(Generous);

        Assert.Equal(ResolutionOutcome.NotFound, result.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(17), result.Ttl);
        Assert.Equal(1, _dns.TotalQueries);
        var error = Assert.IsType<DnsResolutionException>(result.Error);
        Assert.Equal(3, error.ResponseCode);
        Assert.False(error.IsTimeout);
        Assert.Equal($"DNS A query for '{Service}' to {_dns.NameServer} answered NXDOMAIN: '{Service}' does not exist.", error.Message);
    }

    [Fact]
    public async Task NXDOMAIN_from_the_first_server_is_not_asked_of_the_second()
    {
        await using EmbeddedDnsServer second = await EmbeddedDnsServer.StartAsync();
        second.SetAddresses(Service, Ips("10.0.0.9"));
        ResolutionResult result = await Resolver(null, _dns, second).ResolveAsync(Name).AsTask().WaitAsync(Generous);

        Assert.Equal(ResolutionOutcome.NotFound, result.Outcome);
        Assert.Equal(1, _dns.TotalQueries);
        Assert.Equal(0, second.TotalQueries);
    }

    [Fact]
    public async Task NODATA_is_NoData_and_is_not_retried()
    {
        _dns.SetAddresses(Service, []);
        _dns.NegativeTtl = TimeSpan.FromSeconds(9);
        ResolutionResult result = await Resolver().ResolveAsync(Name).AsTask().WaitAsync(Generous);

        Assert.Equal(ResolutionOutcome.NoData, result.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(9), result.Ttl);
        Assert.Equal(1, _dns.TotalQueries);
    }

    [Theory]
    [InlineData(DnsFault.ServerFailure)]
    [InlineData(DnsFault.Refused)]
    public async Task Server_errors_are_retried_until_an_answer(DnsFault fault)
    {
        _dns.SetAddresses(Service, Ips("10.0.0.1"));
        _dns.InjectFault(fault, count: 2);
        ResolutionResult result = await Resolver(o => o.DnsRetryCount = 2).ResolveAsync(Name).AsTask().WaitAsync(Generous);

        Assert.Equal(ResolutionOutcome.Success, result.Outcome);
        Assert.Equal(["10.0.0.1:0"], Keys(result));
        Assert.Equal(3, _dns.TotalQueries);
    }

    /// <summary>The message is where the name, the server and the attempts are read (the exception has no properties for them).</summary>
    [Theory]
    [InlineData(DnsFault.ServerFailure, 2, "SERVFAIL")]
    [InlineData(DnsFault.Refused, 5, "REFUSED")]
    public async Task A_persistent_error_answer_is_named_with_the_query_the_server_and_the_attempts(DnsFault fault, int code, string name)
    {
        _dns.SetAddresses(Service, Ips("10.0.0.1"));
        _dns.InjectFault(fault);
        ResolutionResult result = await Resolver(o => o.DnsRetryCount = 1).ResolveAsync(Name).AsTask().WaitAsync(Generous);

        var error = Assert.IsType<DnsResolutionException>(result.Error);
        Assert.Equal((code, false), (error.ResponseCode, error.IsTimeout));
        Assert.Equal($"DNS A query for '{Service}' to {_dns.NameServer} answered {name} after 2 attempt(s).", error.Message);
    }

    [Fact]
    public async Task Persistent_SERVFAIL_fails_after_all_attempts_naming_service_and_server()
    {
        _dns.SetAddresses(Service, Ips("10.0.0.1"));
        _dns.InjectFault(DnsFault.ServerFailure);
        ResolutionResult result = await Resolver(o => o.DnsRetryCount = 2).ResolveAsync(Name).AsTask().WaitAsync(Generous);

        Assert.Equal(ResolutionOutcome.Failed, result.Outcome);
        var error = Assert.IsType<DnsResolutionException>(result.Error);
        Assert.Equal(2, error.ResponseCode);
        Assert.Contains("after 3 attempt(s)", error.Message, StringComparison.Ordinal);
        Assert.Contains(Service, error.Message, StringComparison.Ordinal);
        Assert.Contains(_dns.NameServer, error.Message, StringComparison.Ordinal);
        Assert.Contains("SERVFAIL", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, _dns.TotalQueries);
    }

    [Fact]
    public async Task Dropped_queries_time_out_after_RetryCount_plus_one_attempts()
    {
        _dns.SetAddresses(Service, Ips("10.0.0.1"));
        _dns.InjectFault(DnsFault.Drop);
        DnsResolver resolver = Resolver(o => { o.DnsAttemptTimeout = TimeSpan.FromMilliseconds(150); o.DnsRetryCount = 2; });
        ResolutionResult result = await resolver.ResolveAsync(Name).AsTask().WaitAsync(Generous);

        Assert.Equal(ResolutionOutcome.Failed, result.Outcome);
        var error = Assert.IsType<DnsResolutionException>(result.Error);
        Assert.True(error.IsTimeout);
        Assert.IsType<TimeoutException>(error.InnerException);
        Assert.Contains("timed out: 3 attempt(s)", error.Message, StringComparison.Ordinal);
        Assert.Contains(_dns.NameServer, error.Message, StringComparison.Ordinal);
        Assert.Contains("150 ms", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, _dns.TotalQueries);
    }

    [Fact]
    public async Task A_timeout_on_the_first_server_moves_on_to_the_second()
    {
        await using EmbeddedDnsServer second = await EmbeddedDnsServer.StartAsync();
        second.SetAddresses(Service, Ips("10.0.0.9"));
        _dns.InjectFault(DnsFault.Drop);

        // The attempt timeout runs on a fake clock: the first attempt times out when the test says so, and the second,
        // meant to succeed, cannot time out however slow the machine is.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var options = new DnsEndpointResolverOptions { DnsAttemptTimeout = TimeSpan.FromSeconds(5), DnsRetryCount = 1, DnsRetryBaseDelay = TimeSpan.Zero };
        options.DnsServers.Add(_dns.NameServer);
        options.DnsServers.Add(second.NameServer);
        Task<ResolutionResult> pending = new DnsResolver(options, timeProvider: time).ResolveAsync(Name).AsTask();
        await _dns.WaitForQueriesAsync(1).WaitAsync(Generous);
        time.Advance(TimeSpan.FromSeconds(5));
        ResolutionResult result = await pending.WaitAsync(Generous);

        Assert.Equal(["10.0.0.9:0"], Keys(result));
        Assert.Equal(1, _dns.TotalQueries);
        Assert.Equal(1, second.TotalQueries);
    }

    [Fact]
    public async Task Caller_cancellation_surfaces_as_OperationCanceledException_not_Failed()
    {
        _dns.SetAddresses(Service, Ips("10.0.0.1"));
        _dns.InjectFault(DnsFault.Drop);
        using var cts = new CancellationTokenSource();
        DnsResolver resolver = Resolver(o => o.DnsAttemptTimeout = TimeSpan.FromMinutes(1));
        Task<ResolutionResult> pending = resolver.ResolveAsync(Name, cts.Token).AsTask();

        await _dns.WaitForQueriesAsync(1).WaitAsync(Generous);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.WaitAsync(Generous));
        Assert.Equal(1, _dns.TotalQueries);
    }

    [Fact]
    public async Task Already_cancelled_token_throws_without_querying()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Resolver().ResolveAsync(Name, cts.Token).AsTask());
        Assert.Equal(0, _dns.TotalQueries);
    }

    [Fact]
    public async Task Null_service_throws_ArgumentNullException()
    {
        await Assert.ThrowsAsync<ArgumentNullException>(() => Resolver().ResolveAsync(null!).AsTask());
    }

    [Fact]
    public async Task Unspecified_multicast_broadcast_and_duplicate_addresses_are_dropped()
    {
        _dns.SetAddresses(Service, Ips("10.0.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255", "10.0.0.1", "::", "ff02::1", "fd00::1"));
        ResolutionResult result = await Resolver(o => o.AddressFamily = DnsAddressFamily.Both).ResolveAsync(Name).AsTask().WaitAsync(Generous);

        Assert.Equal(["10.0.0.1:0", "[fd00::1]:0"], Keys(result));
    }

    [Fact]
    public async Task An_answer_with_only_unusable_addresses_is_NoData()
    {
        _dns.SetAddresses(Service, Ips("0.0.0.0", "239.1.1.1"));
        ResolutionResult result = await Resolver().ResolveAsync(Name).AsTask().WaitAsync(Generous);

        Assert.Equal(ResolutionOutcome.NoData, result.Outcome);
        Assert.Contains("dropped", result.Error?.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MaxEndpoints_keeps_the_first_in_address_order()
    {
        _dns.SetAddresses(Service, Enumerable.Range(1, 10).Reverse().Select(i => IPAddress.Parse($"10.0.0.{i}")));
        ResolutionResult result = await Resolver(o => o.MaxEndpoints = 3).ResolveAsync(Name).AsTask().WaitAsync(Generous);

        Assert.Equal(["10.0.0.1:0", "10.0.0.2:0", "10.0.0.3:0"], Keys(result));
    }

    [Fact]
    public async Task Three_thousand_records_arrive_through_TCP_fallback()
    {
        _dns.SetAddresses(Service, Enumerable.Range(0, 3000).Select(i => new IPAddress(new byte[] { 10, 1, (byte)(i / 256), (byte)(i % 256) })));
        ResolutionResult result = await Resolver().ResolveAsync(Name).AsTask().WaitAsync(Generous);

        Assert.Equal(ResolutionOutcome.Success, result.Outcome);
        Assert.Equal(3000, result.Endpoints.Length);
        Assert.True(_dns.TcpQueries >= 1);
    }

    [Fact]
    public async Task SRV_uses_the_additional_section_without_follow_up_queries()
    {
        string srv = "_http._tcp." + Service;
        _dns.SetSrvRecords(srv, [new SrvTarget("web-0.web.default.svc.cluster.local", 8080), new SrvTarget("web-1.web.default.svc.cluster.local", 8081)], ttl: TimeSpan.FromSeconds(30));
        _dns.SetAddresses("web-0.web.default.svc.cluster.local", Ips("10.0.0.10"), TimeSpan.FromSeconds(7));
        _dns.SetAddresses("web-1.web.default.svc.cluster.local", Ips("10.0.0.11"), TimeSpan.FromSeconds(12));

        ResolutionResult result = await Resolver(o => o.UseSrv = true).ResolveAsync(ServiceName.Parse(srv)).AsTask().WaitAsync(Generous);

        Assert.Equal(ResolutionOutcome.Success, result.Outcome);
        Assert.Equal(["10.0.0.10:8080 (web-0.web.default.svc.cluster.local)", "10.0.0.11:8081 (web-1.web.default.svc.cluster.local)"], Keys(result));
        Assert.Equal([0, 1], result.Endpoints.Select(e => e.Ordinal ?? -1));
        Assert.Equal(TimeSpan.FromSeconds(7), result.Ttl);
        Assert.Equal(0, _dns.GetQueryCount(DnsRecordType.A));
    }

    [Fact]
    public async Task SRV_without_additional_section_looks_targets_up_and_skips_missing_ones()
    {
        string srv = "_http._tcp." + Service;
        _dns.SetSrvRecords(
            srv,
            [new SrvTarget("web-0.web.default.svc.cluster.local", 80), new SrvTarget("web-1.web.default.svc.cluster.local", 80), new SrvTarget("gone.web.default.svc.cluster.local", 80)],
            ttl: TimeSpan.FromSeconds(30),
            includeAddressesInAdditionalSection: false);
        _dns.SetAddresses("web-0.web.default.svc.cluster.local", Ips("10.0.0.10"), TimeSpan.FromSeconds(20));
        _dns.SetAddresses("web-1.web.default.svc.cluster.local", Ips("10.0.0.11"), TimeSpan.FromSeconds(4));

        ResolutionResult result = await Resolver(o => o.UseSrv = true).ResolveAsync(ServiceName.Parse(srv)).AsTask().WaitAsync(Generous);

        Assert.Equal(["10.0.0.10:80 (web-0.web.default.svc.cluster.local)", "10.0.0.11:80 (web-1.web.default.svc.cluster.local)"], Keys(result));
        Assert.Equal(TimeSpan.FromSeconds(4), result.Ttl);
        Assert.Equal(3, _dns.GetQueryCount(DnsRecordType.A));
    }

    [Fact]
    public async Task SRV_whose_targets_all_fail_is_Failed_not_NoData()
    {
        string srv = "_http._tcp." + Service;
        _dns.SetSrvRecords(srv, [new SrvTarget("web-0.web.default.svc.cluster.local", 80)], includeAddressesInAdditionalSection: false);
        _dns.SetAddresses("web-0.web.default.svc.cluster.local", Ips("10.0.0.10"));
        _dns.InjectFault(DnsFault.ServerFailure, "web-0.web.default.svc.cluster.local");

        ResolutionResult result = await Resolver(o => { o.UseSrv = true; o.DnsRetryCount = 0; }).ResolveAsync(ServiceName.Parse(srv)).AsTask().WaitAsync(Generous);

        Assert.Equal(ResolutionOutcome.Failed, result.Outcome);
        Assert.Contains("web-0.web.default.svc.cluster.local", result.Error?.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SRV_NXDOMAIN_is_NotFound()
    {
        ResolutionResult result = await Resolver(o => o.UseSrv = true).ResolveAsync(ServiceName.Parse("_http._tcp." + Service)).AsTask().WaitAsync(Generous);
        Assert.Equal(ResolutionOutcome.NotFound, result.Outcome);
        Assert.Equal(1, _dns.TotalQueries);
    }

    [Fact]
    public async Task Resolution_emits_an_activity_with_service_record_type_outcome_and_count()
    {
        var stopped = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == DiscoveryTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                lock (stopped)
                {
                    stopped.Add(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);

        string unique = $"telemetry-{Guid.NewGuid():N}.default.svc.cluster.local";
        _dns.SetAddresses(unique, Ips("10.0.0.1", "10.0.0.2"));
        await Resolver().ResolveAsync(ServiceName.Parse(unique)).AsTask().WaitAsync(Generous);

        Activity activity;
        lock (stopped)
        {
            activity = Assert.Single(stopped, a => (string?)a.GetTagItem("service") == unique);
        }

        Assert.Equal("headless_discovery.resolve", activity.OperationName);
        Assert.Equal("A", activity.GetTagItem("record_type"));
        Assert.Equal("success", activity.GetTagItem("outcome"));
        Assert.Equal(2, activity.GetTagItem("endpoint_count"));
    }

    [Fact]
    public async Task Attempt_timeout_runs_on_the_injected_TimeProvider()
    {
        _dns.SetAddresses(Service, Ips("10.0.0.1"));
        _dns.InjectFault(DnsFault.Drop);
        var time = new FakeTimeProvider();
        var options = new DnsEndpointResolverOptions { DnsAttemptTimeout = TimeSpan.FromMinutes(2), DnsRetryCount = 0 };
        options.DnsServers.Add(_dns.NameServer);
        var resolver = new DnsResolver(options, timeProvider: time);

        Task<ResolutionResult> pending = resolver.ResolveAsync(Name).AsTask();
        await _dns.WaitForQueriesAsync(1).WaitAsync(Generous);
        Assert.False(pending.IsCompleted);
        time.Advance(TimeSpan.FromMinutes(2));
        ResolutionResult result = await pending.WaitAsync(Generous);

        Assert.Equal(ResolutionOutcome.Failed, result.Outcome);
        Assert.True(Assert.IsType<DnsResolutionException>(result.Error).IsTimeout);
    }

    [Fact]
    public async Task Failed_rounds_count_as_resolution_errors_and_every_round_records_its_duration()
    {
        string unique = $"metrics-{Guid.NewGuid():N}.default.svc.cluster.local";
        var errors = new List<string?>();
        var durations = new List<string?>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == DiscoveryTelemetry.Name)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, _, tags, _) => Collect(instrument, tags));
        listener.SetMeasurementEventCallback<double>((instrument, _, tags, _) => Collect(instrument, tags));
        listener.Start();

        _dns.SetAddresses(unique, Ips("10.0.0.1"));
        _dns.InjectFault(DnsFault.ServerFailure, unique, count: 1);
        DnsResolver resolver = Resolver(o => o.DnsRetryCount = 0);
        Assert.Equal(ResolutionOutcome.Failed, (await resolver.ResolveAsync(ServiceName.Parse(unique)).AsTask().WaitAsync(Generous)).Outcome);
        Assert.Equal(ResolutionOutcome.Success, (await resolver.ResolveAsync(ServiceName.Parse(unique)).AsTask().WaitAsync(Generous)).Outcome);

        lock (errors)
        {
            Assert.Equal(["failed"], errors);
            Assert.Equal(["failed", "success"], durations);
        }

        void Collect(Instrument instrument, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            string? service = null, outcome = null;
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Key == "service")
                {
                    service = tag.Value as string;
                }
                else if (tag.Key == "outcome")
                {
                    outcome = tag.Value as string;
                }
            }

            if (service != unique)
            {
                return;
            }

            lock (errors)
            {
                (instrument.Name == "headless_discovery.resolution.errors" ? errors : durations).Add(outcome);
            }
        }
    }
}
