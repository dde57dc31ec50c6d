using CsCheck;
using Headless.Discovery.TestSupport;
using System.Net;
using System.Net.Sockets;
using Headless.Discovery.Testing;

namespace Headless.Discovery.Tests.Refresh;

/// <summary>
/// Re-resolve on failure (#13.5): a refused connection asks for an early refresh, at most one round per
/// <see cref="HeadlessServiceOptions.MinRefreshInterval"/>, so a scaled-down pod leaves the set long before the answer's
/// TTL. Fake time throughout; the refused connections are real (a stopped loopback pod).
/// </summary>
public sealed class EarlyRefreshTests : IAsyncLifetime
{
    private static readonly ServiceName Svc = ServiceName.Parse("web.default.svc.cluster.local");
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(300);
    private static readonly TimeSpan Min = TimeSpan.FromSeconds(1);
    private readonly RefreshClock _time = new();
    private readonly List<IAsyncDisposable> _owned = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (IAsyncDisposable owned in Enumerable.Reverse(_owned))
        {
            await owned.DisposeAsync();
        }
    }

    private static HeadlessServiceOptions Options(Action<HeadlessServiceOptions>? configure = null)
    {
        var options = new HeadlessServiceOptions { MinRefreshInterval = Min, MaxRefreshInterval = TimeSpan.FromMinutes(10), RefreshJitter = 0 };
        configure?.Invoke(options);
        return options;
    }

    private HeadlessService Create(IEndpointResolver resolver, HeadlessServiceOptions? options = null)
    {
        var service = new HeadlessService(Svc, resolver, options ?? Options(), _time);
        _owned.Add(service);
        return service;
    }

    private static PodEndpoint[] Pods(int count) =>
        [.. Enumerable.Range(1, count).Select(i => new PodEndpoint(IPAddress.Parse($"10.0.0.{i}"), 80))];

    /// <summary>Starts the service and waits until its first round has armed the timer for the next.</summary>
    private async Task StartAsync(HeadlessService service)
    {
        Task armed = _time.NextArmed();
        await service.GetEndpointsAsync().AsTask().WaitAsync(Generous);
        if (_time.LastArmed == Timeout.InfiniteTimeSpan)
        {
            await armed.WaitAsync(Generous);
        }
    }

    private async Task TickAsync(TimeSpan by)
    {
        Task armed = _time.NextArmed();
        _time.Advance(by);
        await armed.WaitAsync(Generous);
    }

    [Fact]
    public async Task Requests_make_one_round_one_minimum_interval_after_the_last_one_started()
    {
        var resolver = new ScriptedResolver(ResolutionResult.Success(Pods(3), Ttl));
        HeadlessService service = Create(resolver);
        await StartAsync(service);
        Assert.Equal(Ttl, _time.LastArmed);

        Task<TimeSpan> early = _time.NextArmed();
        service.RequestRefresh();
        Assert.Equal(Min, await early.WaitAsync(Generous));
        for (int i = 0; i < 5; i++)
        {
            service.RequestRefresh();
        }

        _time.Advance(Min - TimeSpan.FromMilliseconds(1));
        Assert.Equal(1, resolver.Calls);

        await TickAsync(TimeSpan.FromMilliseconds(1));
        Assert.Equal(2, resolver.Calls);
        Assert.Equal(Ttl, _time.LastArmed);

        // The next request, right after that round, waits out the minimum interval again.
        early = _time.NextArmed();
        service.RequestRefresh();
        Assert.Equal(Min, await early.WaitAsync(Generous));
    }

    [Fact]
    public async Task A_request_waits_out_whatever_remains_of_the_minimum_interval()
    {
        // Over minimum intervals and request times: a request made a while after the last round arms the next round
        // for exactly what is left of the minimum interval, or runs it at once when nothing is left.
        Gen<(int MinSeconds, int ElapsedMs)> cases = Gen.Select(Gen.Int[1, 60], Gen.Int[0, 90_000]);
        await Property.ForAllAsync(cases, iterations: 40, seed: 0x13_05_0001UL, async c =>
        {
            TimeSpan min = TimeSpan.FromSeconds(c.MinSeconds);
            var resolver = new ScriptedResolver(ResolutionResult.Success(Pods(3), Ttl));
            HeadlessService service = Create(resolver, Options(o => o.MinRefreshInterval = min));
            await StartAsync(service);
            _time.Advance(TimeSpan.FromMilliseconds(c.ElapsedMs));

            TimeSpan left = min - TimeSpan.FromMilliseconds(c.ElapsedMs);
            Task<TimeSpan> armed = _time.NextArmed();
            service.RequestRefresh();
            if (left > TimeSpan.Zero)
            {
                Assert.Equal(left, await armed.WaitAsync(Generous));
                Assert.Equal(1, resolver.Calls);
            }
            else
            {
                // The round runs without any time passing, and re-arms for the answer's TTL.
                Assert.Equal(Ttl, await armed.WaitAsync(Generous));
                Assert.Equal(2, resolver.Calls);
            }

            await service.DisposeAsync();
        });
    }

    [Fact]
    public async Task A_request_long_after_the_last_round_runs_one_at_once()
    {
        var resolver = new ScriptedResolver(ResolutionResult.Success(Pods(3), Ttl));
        HeadlessService service = Create(resolver);
        await StartAsync(service);
        _time.Advance(TimeSpan.FromSeconds(100));

        // The round runs without any more time passing.
        resolver.Enqueue(ResolutionResult.Success(Pods(4), Ttl));
        service.RequestRefresh();
        await service.WaitForEndpointsAsync(4).AsTask().WaitAsync(Generous);
        Assert.Equal(2, resolver.Calls);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Requests_while_a_round_runs_make_the_next_round_early(int requests)
    {
        // The round in flight may have been answered before the pod left: the request is not absorbed by it.
        var resolver = new ScriptedResolver(ResolutionResult.Success(Pods(3), Ttl));
        HeadlessService service = Create(resolver);
        await StartAsync(service);
        _time.Advance(TimeSpan.FromSeconds(10));

        resolver.Block();
        Task refresh = service.RefreshAsync().AsTask();
        await resolver.Entered.WaitAsync(Generous);
        for (int i = 0; i < requests; i++)
        {
            service.RequestRefresh();
        }

        Task<TimeSpan> armed = _time.NextArmed();
        resolver.Release();
        await refresh.WaitAsync(Generous);

        Assert.Equal(Min, await armed.WaitAsync(Generous));
    }

    [Fact]
    public async Task Starting_twice_runs_one_first_round()
    {
        var resolver = new ScriptedResolver(ResolutionResult.Success(Pods(3), Ttl));
        HeadlessService service = Create(resolver);
        service.Start();
        service.Start();
        await StartAsync(service);
        await service.RefreshAsync().AsTask().WaitAsync(Generous);

        // The first round, then the one asked for: a second Start made no loop of its own.
        Assert.Equal(2, resolver.Calls);
    }

    [Fact]
    public async Task Requests_before_start_and_after_disposal_do_nothing()
    {
        var resolver = new ScriptedResolver(ResolutionResult.Success(Pods(1), Ttl));
        HeadlessService service = Create(resolver);
        service.RequestRefresh();
        Assert.Equal(0, resolver.Calls);

        await StartAsync(service);
        await service.DisposeAsync();
        service.RequestRefresh();
        Assert.Equal(1, resolver.Calls);
    }

    [Fact]
    public async Task A_scaled_down_pod_leaves_the_set_one_minimum_interval_after_a_refused_call_not_at_its_ttl()
    {
        await using EmbeddedDnsServer dns = await EmbeddedDnsServer.StartAsync();
        await using LoopbackPodSet pods = await LoopbackPodSet.StartAsync(3, 0, "web");
        pods.SyncToDns(dns, Svc.Value, Ttl);
        HeadlessServiceOptions options = Options(o =>
        {
            o.Name = Svc.Value;
            o.Port = pods.Port;
            o.DnsAttemptTimeout = Generous;
            o.DnsServers.Add(dns.NameServer);
        });
        var service = new HeadlessService(options, _time);
        _owned.Add(service);
        await StartAsync(service);
        Assert.Equal(3, service.Current.Count);

        // Scale down: the pod stops and leaves DNS; a caller then meets a refused connection.
        LoopbackPod gone = pods.Pods[^1];
        await pods.RemovePodAsync(gone);
        pods.SyncToDns(dns, Svc.Value, Ttl);
        PodEndpoint endpoint = service.Current.Endpoints.Single(e => e.Address.Equals(gone.Address));
        SocketException refused = await Assert.ThrowsAsync<SocketException>(() => ConnectAsync(endpoint));

        // The refused call asks for a round one minimum interval after the last one; the TTL is five minutes away.
        service.ReportFailure(endpoint, refused);
        _time.Advance(Min);
        EndpointSet after = await service.WaitAsync(s => s.Count == 2, CancellationToken.None).AsTask().WaitAsync(Generous);

        Assert.DoesNotContain(endpoint, after.Endpoints);
    }

    [Fact]
    public async Task A_service_at_zero_replicas_is_asked_again_on_the_normal_schedule_whatever_the_negative_ttl()
    {
        // grpc-dotnet#1672: "name does not resolve" stayed cached after the service scaled back from 0. Here the
        // NXDOMAIN's SOA says an hour; the next round still comes at MaxRefreshInterval.
        await using EmbeddedDnsServer dns = await EmbeddedDnsServer.StartAsync();
        dns.NegativeTtl = TimeSpan.FromHours(1);
        HeadlessServiceOptions options = Options(o =>
        {
            o.Name = Svc.Value;
            o.Port = 80;
            o.MaxRefreshInterval = TimeSpan.FromSeconds(30);
            o.DnsAttemptTimeout = Generous;
            o.DnsServers.Add(dns.NameServer);
        });
        var service = new HeadlessService(options, _time);
        _owned.Add(service);
        Assert.Equal(0, (await service.GetEndpointsAsync().AsTask().WaitAsync(Generous)).Count);

        // A round run to its end (it re-arms the timer) before time moves: then scale up from zero.
        await service.RefreshAsync().AsTask().WaitAsync(Generous);
        dns.SetAddresses(Svc.Value, [IPAddress.Parse("127.0.0.71"), IPAddress.Parse("127.0.0.72")], Ttl);
        _time.Advance(TimeSpan.FromSeconds(30));

        EndpointSet back = await service.WaitAsync(s => s.Count == 2, CancellationToken.None).AsTask().WaitAsync(Generous);
        Assert.Equal(_time.GetUtcNow(), back.ResolvedAt);
    }

    [Fact]
    public void A_refusal_inside_an_aggregate_asks_for_a_refresh_and_one_buried_too_deep_is_not_looked_for()
    {
        var service = new FakeHeadlessService(Pods(1));
        PodEndpoint pod = service.Current.Endpoints[0];
        service.ReportFailure(pod, new AggregateException(new TimeoutException("slow"), new SocketException((int)SocketError.ConnectionRefused)));
        Assert.Equal(1, service.RefreshRequests);

        Exception buried = new SocketException((int)SocketError.ConnectionRefused);
        for (int i = 0; i < 8; i++)
        {
            buried = new InvalidOperationException("wrapped", buried);
        }

        service.ReportFailure(pod, buried);
        Assert.Equal(1, service.RefreshRequests);
        service.ReportFailure(pod, buried.InnerException!);
        Assert.Equal(2, service.RefreshRequests);
    }

    [Fact]
    public async Task A_failure_that_says_nothing_about_membership_asks_for_no_refresh()
    {
        var service = new FakeHeadlessService(Pods(1));
        service.ReportFailure(service.Current.Endpoints[0], new TimeoutException("slow"));
        service.ReportFailure(service.Current.Endpoints[0], new HttpRequestException("reset", new IOException("reset", new SocketException((int)SocketError.ConnectionReset))));
        Assert.Equal(0, service.RefreshRequests);
        Assert.Equal(2, service.Outcomes.Count(o => !o.Succeeded));

        service.ReportFailure(service.Current.Endpoints[0], new HttpRequestException("refused", new SocketException((int)SocketError.ConnectionRefused)));
        Assert.Equal(1, service.RefreshRequests);
    }

    private static async Task ConnectAsync(PodEndpoint endpoint)
    {
        using var socket = new Socket(endpoint.Address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(endpoint.EndPoint).WaitAsync(Generous);
    }
}
