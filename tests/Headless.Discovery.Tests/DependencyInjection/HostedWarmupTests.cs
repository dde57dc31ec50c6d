using System.Net;
using Headless.Discovery.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using static Headless.Discovery.Tests.DependencyInjection.DiTestHost;

namespace Headless.Discovery.Tests.DependencyInjection;

/// <summary>The hosted warm-up against the embedded DNS server on loopback.</summary>
public sealed class HostedWarmupTests : IAsyncLifetime
{
    private const string Name = "web.shop.svc.cluster.local";
    private EmbeddedDnsServer _dns = null!;

    public async Task InitializeAsync() => _dns = await EmbeddedDnsServer.StartAsync();

    public async Task DisposeAsync() => await _dns.DisposeAsync();

    private Dictionary<string, string?> Config(int minEndpoints = 0, string? startupTimeout = null, bool? fail = null)
    {
        var config = new Dictionary<string, string?>
        {
            [Section + "Name"] = Name,
            [Section + "Port"] = "8080",
            [Section + "DnsServers:0"] = _dns.NameServer,
            [Section + "DnsAttemptTimeout"] = "00:00:00.500",
            [Section + "DnsRetryCount"] = "0",
            [Section + "MinRefreshInterval"] = "00:00:00.100",
            [Section + "MaxRefreshInterval"] = "00:00:00.200",
            [Section + "FailureBackoffBase"] = "00:00:00.100",
            [Section + "FailureBackoffMax"] = "00:00:00.200",
            [Section + "MinEndpoints"] = minEndpoints.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (startupTimeout is not null)
        {
            config[Section + "StartupTimeout"] = startupTimeout;
        }

        if (fail is not null)
        {
            config[Section + "FailOnStartupTimeout"] = fail.Value ? "true" : "false";
        }

        return config;
    }

    private static IPAddress[] Pods(int count) => Enumerable.Range(1, count).Select(i => IPAddress.Parse($"10.1.0.{i}")).ToArray();

    [Fact]
    public async Task Startup_waits_for_MinEndpoints_and_the_service_stops_with_the_host()
    {
        _dns.SetAddresses(Name, Pods(3));
        IHost host = Build(Config(minEndpoints: 3), s => s.AddHeadlessService("backend"));
        IHeadlessService service = host.Services.GetRequiredKeyedService<IHeadlessService>("backend");
        Assert.Equal(0, service.Current.Version);

        await host.StartAsync().WaitAsync(Generous);
        Assert.Equal(3, service.Current.Count);

        // The service keeps following DNS while the host runs.
        _dns.SetAddresses(Name, Pods(4));
        await service.WaitForEndpointsAsync(4).AsTask().WaitAsync(Generous);

        await host.StopAsync().WaitAsync(Generous);
        Assert.Equal(4, service.Current.Count);
        host.Dispose();
        Assert.Throws<ObjectDisposedException>(service.Start);
    }

    [Fact]
    public async Task Without_MinEndpoints_the_host_starts_the_watchers_without_waiting()
    {
        _dns.SetAddresses(Name, Pods(2));
        using IHost host = Build(Config(), s => s.AddHeadlessService("backend"));
        await host.StartAsync().WaitAsync(Generous);

        // Nothing here calls the service: the warm-up started it.
        IHeadlessService service = host.Services.GetRequiredKeyedService<IHeadlessService>("backend");
        await _dns.WaitForQueriesAsync(1).WaitAsync(Generous);
        EndpointSet set = await service.WaitForEndpointsAsync(2).AsTask().WaitAsync(Generous);
        Assert.Equal(2, set.Count);
        await host.StopAsync().WaitAsync(Generous);
    }

    [Fact]
    public async Task A_startup_wait_that_times_out_stops_the_host_with_a_clear_error()
    {
        // No records: NXDOMAIN on every refresh.
        using IHost host = Build(Config(minEndpoints: 2, startupTimeout: "00:00:00.300"), s => s.AddHeadlessService("backend"));

        var ex = await Assert.ThrowsAsync<TimeoutException>(() => host.StartAsync().WaitAsync(Generous));
        Assert.Contains("HeadlessDiscovery:Services:backend: 0 of the 2 endpoint(s) required by MinEndpoints", ex.Message, StringComparison.Ordinal);
        Assert.Contains(Name, ex.Message, StringComparison.Ordinal);
        Assert.Contains("FailOnStartupTimeout", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_startup_wait_that_times_out_can_only_warn()
    {
        var logs = new ListLoggerProvider();
        using IHost host = Build(Config(minEndpoints: 2, startupTimeout: "00:00:00.300", fail: false), s =>
        {
            s.AddHeadlessService("backend");
            s.AddLogging(b => b.AddProvider(logs));
        });

        await host.StartAsync().WaitAsync(Generous);
        Assert.Contains(logs.Entries, e => e.EventId == 1412 && e.Message.Contains("0 of the 2 endpoint(s)", StringComparison.Ordinal));

        // It keeps resolving: pods appearing later are picked up.
        _dns.SetAddresses(Name, Pods(2));
        await host.Services.GetRequiredKeyedService<IHeadlessService>("backend").WaitForEndpointsAsync(2).AsTask().WaitAsync(Generous);
        await host.StopAsync().WaitAsync(Generous);
    }
}
