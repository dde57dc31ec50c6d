using DnsClient;
using System.Net;
using CsCheck;
using Headless.Discovery.Testing;
using Headless.Discovery.TestSupport;
using Microsoft.Extensions.Time.Testing;

namespace Headless.Discovery.Tests.Resolution;

/// <summary>
/// Many services in one process: one DNS transport per way of asking, a process-wide bound on the queries in flight to a
/// name server that waiting does not count against, and refreshes that change nothing building nothing new.
/// </summary>
public sealed class SharedTransportTests : IAsyncLifetime
{
    private EmbeddedDnsServer _dns = null!;

    public async Task InitializeAsync() => _dns = await EmbeddedDnsServer.StartAsync();

    public async Task DisposeAsync() => await _dns.DisposeAsync();

    private string Server => $"127.0.0.1:{_dns.EndPoint.Port}";

    private static string Name(int i) => $"svc{i}.default.svc.cluster.local";

    private static IPAddress Pod(int service, int pod) => new(new byte[] { 10, 9, (byte)service, (byte)(pod + 1) });

    private DnsResolver Resolver(Action<DnsEndpointResolverOptions>? configure = null, TimeProvider? time = null)
    {
        var options = new DnsEndpointResolverOptions { Port = 80 };
        options.DnsServers.Add(Server);
        configure?.Invoke(options);
        return new DnsResolver(options, timeProvider: time);
    }

    [Fact]
    public void Resolvers_that_ask_the_same_servers_the_same_way_share_one_transport()
    {
        // What every DnsResolver constructor asks for (its own options decide what is asked, not how).
        NameServer[] servers = [new NameServer(_dns.EndPoint)];
        var clock = new FakeTimeProvider();
        DnsTransport a = DnsTransport.For(servers, TimeSpan.FromSeconds(2), 2, TimeSpan.FromMilliseconds(100), TimeProvider.System);
        DnsTransport same = DnsTransport.For([new NameServer(_dns.EndPoint)], TimeSpan.FromSeconds(2), 2, TimeSpan.FromMilliseconds(100), TimeProvider.System);
        DnsTransport slower = DnsTransport.For(servers, TimeSpan.FromSeconds(7), 2, TimeSpan.FromMilliseconds(100), TimeProvider.System);
        DnsTransport fewerRetries = DnsTransport.For(servers, TimeSpan.FromSeconds(2), 0, TimeSpan.FromMilliseconds(100), TimeProvider.System);
        DnsTransport ownClock = DnsTransport.For(servers, TimeSpan.FromSeconds(2), 2, TimeSpan.FromMilliseconds(100), clock);

        Assert.Same(a, same);
        Assert.NotSame(a, slower);
        Assert.NotSame(a, fewerRetries);
        Assert.NotSame(a, ownClock);

        // However they ask, they share the name server's one gate.
        Assert.All([slower, fewerRetries, ownClock], t => Assert.Same(a.Gate, t.Gate));
    }

    /// <summary>
    /// A hundred services start at once against a server that takes 200 ms per answer: at most 16 queries reach it at a
    /// time, and every service resolves with its first query. (The attempt timeout is generous: how many queries the
    /// embedded server answers at once is its own business; that waiting is not timed is shown on a fake clock below.)
    /// </summary>
    [Fact]
    public async Task A_burst_of_first_resolutions_reaches_the_server_at_most_16_at_a_time_and_every_one_resolves_with_one_query()
    {
        const int Services = 100;
        for (int i = 0; i < Services; i++)
        {
            // A TTL of an hour: the first batch must not refresh while the last one still waits (every query counted
            // below is a first query or a retry).
            _dns.SetAddresses(Name(i), [Pod(i, 0), Pod(i, 1)], TimeSpan.FromHours(1));
        }

        _dns.ResponseDelay = TimeSpan.FromMilliseconds(200);
        var options = new HeadlessServiceOptions { Port = 80, DnsAttemptTimeout = TimeSpan.FromSeconds(30), DnsRetryCount = 2 };
        options.DnsServers.Add(Server);
        var services = new List<HeadlessService>();
        for (int i = 0; i < Services; i++)
        {
            options.Name = Name(i);
            services.Add(new HeadlessService(options));
        }

        try
        {
            foreach (HeadlessService service in services)
            {
                service.Start();
            }

            EndpointSet[] sets = await Task.WhenAll(services.Select(s => s.GetEndpointsAsync().AsTask())).WaitAsync(Generous);

            Assert.All(sets, s => Assert.Equal(2, s.Count));
            Assert.All(sets, s => Assert.Null(s.LastError));
            Assert.InRange(_dns.MaxConcurrentQueries, 1, NameServerGate.MaxInFlight);
            Assert.Equal(Services, _dns.TotalQueries); // none was asked twice
        }
        finally
        {
            foreach (HeadlessService service in services)
            {
                await service.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// A query waits for a slot longer than its attempt timeout (on a fake clock), then gets one and is answered: the
    /// wait was not its attempt's time.
    /// </summary>
    [Fact]
    public async Task Waiting_for_a_slot_is_not_an_attempts_time()
    {
        _dns.SetAddresses(Name(0), [Pod(0, 0)]);
        _dns.Pause();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        DnsResolver holder = Resolver(o => { o.DnsAttemptTimeout = TimeSpan.FromMinutes(1); o.DnsRetryCount = 0; }, time);
        DnsResolver waiter = Resolver(o => { o.DnsAttemptTimeout = TimeSpan.FromSeconds(1); o.DnsRetryCount = 2; }, time);
        using var stop = new CancellationTokenSource();
        Task<ResolutionResult>[] holding = [.. Enumerable.Range(0, NameServerGate.MaxInFlight).Select(_ => holder.ResolveAsync(ServiceName.Parse(Name(0)), stop.Token).AsTask())];
        await _dns.WaitForQueriesAsync(NameServerGate.MaxInFlight).WaitAsync(Generous);

        Task<ResolutionResult> waiting = waiter.ResolveAsync(ServiceName.Parse(Name(0))).AsTask();
        time.Advance(TimeSpan.FromSeconds(2)); // twice its attempt timeout, within its patience of 3 s
        Assert.False(waiting.IsCompleted);

        _dns.Resume();
        await stop.CancelAsync(); // the holders give their slots back
        ResolutionResult result = await waiting.WaitAsync(Generous);
        Assert.Equal(ResolutionOutcome.Success, result.Outcome);
        foreach (Task<ResolutionResult> held in holding)
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => held).WaitAsync(Generous);
        }
    }

    [Fact]
    public async Task A_query_waiting_for_a_slot_can_be_cancelled_and_gives_no_slot_away()
    {
        _dns.SetAddresses(Name(0), [Pod(0, 0)]);
        _dns.Pause(); // every query is held: the gate fills up
        var options = new DnsEndpointResolverOptions { Port = 80, DnsAttemptTimeout = TimeSpan.FromSeconds(30), DnsRetryCount = 0 };
        options.DnsServers.Add(Server);
        var resolver = new DnsResolver(options);
        using var stop = new CancellationTokenSource();
        Task<ResolutionResult>[] holding = [.. Enumerable.Range(0, NameServerGate.MaxInFlight).Select(_ => resolver.ResolveAsync(ServiceName.Parse(Name(0)), stop.Token).AsTask())];
        await _dns.WaitForQueriesAsync(NameServerGate.MaxInFlight).WaitAsync(Generous);

        using var waiting = new CancellationTokenSource();
        Task<ResolutionResult> queued = resolver.ResolveAsync(ServiceName.Parse(Name(0)), waiting.Token).AsTask();
        Assert.False(queued.IsCompleted);
        await waiting.CancelAsync();
        ResolutionResult? unexpected = await Task.WhenAny(queued, Task.Delay(5000)) == queued && queued.IsCompletedSuccessfully ? await queued : null;
        Assert.True(unexpected is null, $"{unexpected?.Outcome} {unexpected?.Error}");
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued).WaitAsync(Generous);
        Assert.Equal(NameServerGate.MaxInFlight, _dns.TotalQueries); // the cancelled one never reached the server

        // Every held query ends; their slots come back, and the next query goes through.
        await stop.CancelAsync();
        foreach (Task<ResolutionResult> held in holding)
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => held).WaitAsync(Generous);
        }

        _dns.Resume();
        ResolutionResult after = await resolver.ResolveAsync(ServiceName.Parse(Name(0))).AsTask().WaitAsync(Generous);
        Assert.Equal(ResolutionOutcome.Success, after.Outcome);
    }

    /// <summary>
    /// Behind a server that answers nothing, a query waits for a slot no longer than its own attempts could have taken,
    /// then fails as a timeout without being sent: services queued behind a dead server turn stale as soon as they
    /// would have without the bound.
    /// </summary>
    [Fact]
    public async Task A_query_waits_for_a_slot_no_longer_than_its_attempts_could_take_and_then_fails_unsent()
    {
        _dns.SetAddresses(Name(0), [Pod(0, 0)]);
        _dns.Pause();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        DnsResolver holder = Resolver(o => { o.DnsAttemptTimeout = TimeSpan.FromSeconds(30); o.DnsRetryCount = 0; }, time);
        DnsResolver queued = Resolver(o => { o.DnsAttemptTimeout = TimeSpan.FromSeconds(1); o.DnsRetryCount = 2; }, time);
        using var stop = new CancellationTokenSource();
        Task<ResolutionResult>[] holding = [.. Enumerable.Range(0, NameServerGate.MaxInFlight).Select(_ => holder.ResolveAsync(ServiceName.Parse(Name(0)), stop.Token).AsTask())];
        await _dns.WaitForQueriesAsync(NameServerGate.MaxInFlight).WaitAsync(Generous);

        Task<ResolutionResult> waiting = queued.ResolveAsync(ServiceName.Parse(Name(0))).AsTask();
        time.Advance(TimeSpan.FromSeconds(3) - TimeSpan.FromMilliseconds(1));
        Assert.False(waiting.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(1)); // 1 s x (2 retries + 1)

        ResolutionResult result = await waiting.WaitAsync(Generous);
        Assert.Equal(ResolutionOutcome.Failed, result.Outcome);
        var error = Assert.IsType<DnsResolutionException>(result.Error);
        Assert.True(error.IsTimeout);
        Assert.Contains("was not sent: 16 queries from this process to", error.Message, StringComparison.Ordinal);
        Assert.Equal(NameServerGate.MaxInFlight, _dns.TotalQueries);

        await stop.CancelAsync();
        foreach (Task<ResolutionResult> held in holding)
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => held).WaitAsync(Generous);
        }
    }

    /// <summary>
    /// Property: over generated sequences of answers (pods joining, leaving, repeated, duplicated, both families), a
    /// resolver that remembers its last answer returns exactly what a fresh resolver returns for the same answer, and
    /// a pod that stayed is the same <see cref="PodEndpoint"/> instance as in the last answer.
    /// </summary>
    [Fact]
    public async Task An_answer_reuses_the_last_answers_endpoints_and_reads_exactly_as_a_fresh_resolvers()
    {
        Gen<(int[][] Answers, bool Both)> scenarios = Gen.Select(Gen.Int[0, 40].Array[0, 12].Array[1, 6], Gen.Bool);
        int names = 0;
        await Property.ForAllAsync(
            scenarios,
            iterations: 40,
            seed: 0x11_01_0001UL,
            async scenario =>
            {
                (int[][] answers, bool both) = scenario;
                string name = $"reuse{Interlocked.Increment(ref names)}.default.svc.cluster.local";
                var service = ServiceName.Parse(name);
                DnsAddressFamily family = both ? DnsAddressFamily.Both : DnsAddressFamily.IPv4;
                DnsResolver remembering = Resolver(o => o.AddressFamily = family);
                ResolutionResult? last = null;
                foreach (int[] answer in answers)
                {
                    // Duplicates in the generated answer stay in the zone: the resolver must drop them.
                    _dns.SetAddresses(name, answer.Select(p => Pod(200, p)).Concat(both ? answer.Where(p => p % 3 == 0).Select(p => IPAddress.Parse($"fd00::{p + 1}")) : []));
                    ResolutionResult got = await remembering.ResolveAsync(service).AsTask().WaitAsync(Generous);
                    ResolutionResult fresh = await Resolver(o => { o.AddressFamily = family; o.DnsAttemptTimeout = TimeSpan.FromSeconds(9); }).ResolveAsync(service).AsTask().WaitAsync(Generous);

                    Assert.Equal(fresh.Outcome, got.Outcome);
                    Assert.Equal<PodEndpoint>([.. fresh.Endpoints], [.. got.Endpoints]);
                    if (last is { Outcome: ResolutionOutcome.Success })
                    {
                        foreach (PodEndpoint endpoint in got.Endpoints)
                        {
                            int before = last.Endpoints.IndexOf(endpoint);
                            if (before >= 0 && endpoint.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
                            {
                                Assert.Same(last.Endpoints[before], endpoint);
                            }
                        }
                    }

                    if (got.Outcome == ResolutionOutcome.Success)
                    {
                        last = got;
                    }
                }
            });
    }

    [Fact]
    public async Task An_unchanged_answer_is_the_last_answers_array()
    {
        _dns.SetAddresses(Name(1), [Pod(1, 2), Pod(1, 0), Pod(1, 1)]);
        DnsResolver resolver = Resolver();
        ResolutionResult first = await resolver.ResolveAsync(ServiceName.Parse(Name(1))).AsTask().WaitAsync(Generous);
        ResolutionResult second = await resolver.ResolveAsync(ServiceName.Parse(Name(1))).AsTask().WaitAsync(Generous);

        Assert.Equal(3, second.Endpoints.Length);
        Assert.True(first.Endpoints == second.Endpoints, "an unchanged answer builds no new endpoint array");

        // Another service through the same resolver is not confused with the first.
        _dns.SetAddresses(Name(2), [Pod(2, 0)]);
        ResolutionResult other = await resolver.ResolveAsync(ServiceName.Parse(Name(2))).AsTask().WaitAsync(Generous);
        Assert.Equal<PodEndpoint>([new PodEndpoint(Pod(2, 0), 80)], [.. other.Endpoints]);
    }
}
