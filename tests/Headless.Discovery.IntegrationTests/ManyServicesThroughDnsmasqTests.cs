using System.Net;
using Headless.Discovery.TestSupport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Headless.Discovery.IntegrationTests;

/// <summary>
/// Hundreds of headless Services watched by one process against one real dnsmasq: one DNS transport for them all, a
/// bounded number of queries in flight, and no DNS TCP connection kept between rounds (dnsmasq serves at most 20).
/// </summary>
[Collection(DnsmasqTests.Name)]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ManyServicesThroughDnsmasqTests(DnsmasqFixture dnsmasq)
{
    // Twice the shared Generous: 500 services and 100 x 200 pods on a loaded 2-core machine. A guard only; no assertion depends on it.
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(120);

    private static int s_batches;

    private IPEndPoint Server => new(IPAddress.Loopback, dnsmasq.Port);

    /// <summary>Pod addresses, DNS data only: 10.(64 + s / 250).(s % 250).(p + 1), and a replacement range for p >= 250.</summary>
    private static IPAddress Pod(int service, int pod) =>
        new(new byte[] { 10, (byte)(64 + (service / 250)), (byte)(service % 250), (byte)(pod + 1) });

    private static IReadOnlyList<IPAddress> Pods(int service, int count, int first = 0) =>
        [.. Enumerable.Range(first, count).Select(p => Pod(service, p))];

    private static string[] Keys(IEnumerable<IPAddress> addresses) => [.. addresses.Select(a => $"{a}:80").Order(StringComparer.Ordinal)];

    private static string[] Keys(EndpointSet set) => [.. set.Endpoints.Select(e => e.Key).Order(StringComparer.Ordinal)];

    private async Task<string[]> ServeAsync(int services, int pods)
    {
        int batch = Interlocked.Increment(ref s_batches);
        string[] names = [.. Enumerable.Range(0, services).Select(s => $"many{batch}-{s}.default.svc.cluster.local")];
        for (int s = 0; s < services; s++)
        {
            await dnsmasq.SetHostsAsync(names[s], Pods(s, pods), waitForReload: false);
        }

        foreach (string name in names)
        {
            await dnsmasq.WaitUntilServedAsync(name, pods);
        }

        return names;
    }

    private HeadlessService[] Services(string[] names, RetryCounter retries, TimeProvider? time = null) =>
        [.. names.Select(name =>
        {
            var options = new HeadlessServiceOptions
            {
                Name = name,
                Port = 80,
                // Generous: an attempt that times out here means a query was lost or refused, never that a loaded
                // machine answered slowly (the assertions count retries).
                DnsAttemptTimeout = TimeSpan.FromSeconds(10),
                DnsRetryCount = 2,
            };
            options.DnsServers.Add(dnsmasq.NameServer);
            return new HeadlessService(options, time, retries);
        })];

    private static async Task DisposeAllAsync(IEnumerable<HeadlessService> services)
    {
        foreach (HeadlessService service in services)
        {
            await service.DisposeAsync();
        }
    }

    [Fact]
    public async Task Five_hundred_services_started_at_once_all_resolve_in_their_first_round()
    {
        const int PodCount = 20;
        string[] names = await ServeAsync(500, PodCount);
        var retries = new RetryCounter();
        HeadlessService[] services = Services(names, retries);
        try
        {
            foreach (HeadlessService service in services)
            {
                service.Start();
            }

            EndpointSet[] sets = await Task.WhenAll(services.Select(s => s.GetEndpointsAsync().AsTask())).WaitAsync(Guard);

            Assert.Equal(0, retries.Count); // no query timed out or failed: no service waited for a timeout
            Assert.All(sets, set =>
            {
                Assert.Equal(1, set.Version);
                Assert.Null(set.LastError);
                Assert.Equal(PodCount, set.Endpoints.Length);
            });
        }
        finally
        {
            await DisposeAllAsync(services);
        }
    }

    /// <summary>
    /// A hundred services of 200 pods each: every answer is too large for UDP (dnsmasq 2.90 sends at most 1232 bytes),
    /// so every round opens TCP connections, while dnsmasq serves at most 20 at a time. Every round resolves every
    /// service exactly, each change is seen by the next round, and between rounds the process holds no TCP connection
    /// to dnsmasq.
    /// </summary>
    [Fact]
    public async Task A_hundred_services_of_200_pods_resolve_stay_fresh_and_hold_no_dns_tcp_connection_between_rounds()
    {
        const int Count = 100;
        const int PodCount = 200;
        string[] names = await ServeAsync(Count, PodCount);
        var retries = new RetryCounter();

        // A fake clock shared by all: no refresh runs but the rounds the test asks for, so "between rounds" is well defined.
        HeadlessService[] services = Services(names, retries, new FakeTimeProvider(DateTimeOffset.UtcNow));
        try
        {
            EndpointSet[] sets = await Task.WhenAll(services.Select(s => s.GetEndpointsAsync().AsTask())).WaitAsync(Guard);
            for (int s = 0; s < Count; s++)
            {
                Assert.Equal(Keys(Pods(s, PodCount)), Keys(sets[s]));
            }

            AssertNoConnectionHeld("after the first round");

            for (int round = 1; round <= 2; round++)
            {
                // Every service: the first `round` pods replaced by new ones.
                for (int s = 0; s < Count; s++)
                {
                    await dnsmasq.SetHostsAsync(names[s], [.. Pods(s, PodCount - round, first: round), .. Pods(s, round, first: 250 - round)]);
                }

                sets = await Task.WhenAll(services.Select(s => s.RefreshAsync().AsTask())).WaitAsync(Guard);
                for (int s = 0; s < Count; s++)
                {
                    string[] expected = Keys([.. Pods(s, PodCount - round, first: round), .. Pods(s, round, first: 250 - round)]);
                    Assert.True(expected.SequenceEqual(Keys(sets[s])), $"Round {round}, service {s}: the refresh did not see the change ({sets[s].Endpoints.Length} pods, stale: {sets[s].StaleSince is not null}, error: {sets[s].LastError?.Message}).");
                }

                AssertNoConnectionHeld($"after round {round}");
            }

            Assert.Equal(0, retries.Count);
        }
        finally
        {
            await DisposeAllAsync(services);
        }
    }

    private void AssertNoConnectionHeld(string when)
    {
        IReadOnlyList<string> held = ProcessTcpConnections.To(Server);
        Assert.True(held.Count == 0, $"{when} this process still holds {held.Count} TCP connection(s) to dnsmasq: {string.Join("; ", held.Take(5))}");
    }

    /// <summary>Counts the resolver's "retrying" log events (a timed-out or failed DNS attempt) and its failed rounds.</summary>
    private sealed class RetryCounter : ILoggerFactory
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public ILogger CreateLogger(string categoryName) => new Counting(this, categoryName == typeof(DnsEndpointResolver).FullName);

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }

        private sealed class Counting(RetryCounter owner, bool resolver) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => resolver;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                // The resolver's 1003: a DNS attempt failed and is retried; 1002: a resolution round failed.
                if (resolver && eventId.Id is 1002 or 1003)
                {
                    Interlocked.Increment(ref owner._count);
                }
            }
        }
    }
}
