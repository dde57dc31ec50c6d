using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using static Headless.Discovery.Tests.DependencyInjection.DiTestHost;

namespace Headless.Discovery.Tests.DependencyInjection;

public sealed class ConfigurationBindingTests
{
    private static Dictionary<string, string?> EveryKey() => new()
    {
        [Section + "Name"] = "web.shop.svc.cluster.local",
        [Section + "Port"] = "8080",
        [Section + "DnsServers:0"] = "127.0.0.1:5354",
        [Section + "DnsServers:1"] = "[::1]:53",
        [Section + "AddressFamily"] = "Both",
        [Section + "UseSrv"] = "true",
        [Section + "DnsAttemptTimeout"] = "00:00:00.750",
        [Section + "DnsRetryCount"] = "4",
        [Section + "MaxEndpoints"] = "77",
        [Section + "MinRefreshInterval"] = "00:00:02",
        [Section + "MaxRefreshInterval"] = "00:01:00",
        [Section + "RefreshJitter"] = "0.25",
        [Section + "FailureBackoffBase"] = "00:00:03",
        [Section + "FailureBackoffMax"] = "00:00:45",
        [Section + "MaxStaleness"] = "00:10:00",
        [Section + "EmptyAnswerConfirmations"] = "5",
        [Section + "ActiveHealth:Probe"] = "http:/healthz",
        [Section + "ActiveHealth:Interval"] = "00:00:07",
        [Section + "ActiveHealth:Timeout"] = "00:00:01.500",
        [Section + "ActiveHealth:HealthyThreshold"] = "4",
        [Section + "ActiveHealth:UnhealthyThreshold"] = "6",
        [Section + "PassiveHealth:ConsecutiveFailures"] = "9",
        [Section + "PanicThreshold"] = "25",
        [Section + "Selector"] = "Ordinal:2",
        [Section + "MinEndpoints"] = "3",
        [Section + "StartupTimeout"] = "00:00:09",
        [Section + "FailOnStartupTimeout"] = "false",
    };

    [Fact]
    public void Every_key_of_the_section_is_bound()
    {
        using IHost host = Build(EveryKey(), s => s.AddHeadlessService("backend"));

        HeadlessServiceOptions o = host.Services.GetRequiredService<IOptionsMonitor<HeadlessServiceOptions>>().Get("backend");
        Assert.Equal("web.shop.svc.cluster.local", o.Name);
        Assert.Equal(8080, o.Port);
        Assert.Equal(["127.0.0.1:5354", "[::1]:53"], o.DnsServers);
        Assert.Equal(DnsAddressFamily.Both, o.AddressFamily);
        Assert.True(o.UseSrv);
        Assert.Equal(TimeSpan.FromMilliseconds(750), o.DnsAttemptTimeout);
        Assert.Equal(4, o.DnsRetryCount);
        Assert.Equal(77, o.MaxEndpoints);
        Assert.Equal(TimeSpan.FromSeconds(2), o.MinRefreshInterval);
        Assert.Equal(TimeSpan.FromMinutes(1), o.MaxRefreshInterval);
        Assert.Equal(0.25, o.RefreshJitter);
        Assert.Equal(TimeSpan.FromSeconds(3), o.FailureBackoffBase);
        Assert.Equal(TimeSpan.FromSeconds(45), o.FailureBackoffMax);
        Assert.Equal(TimeSpan.FromMinutes(10), o.MaxStaleness);
        Assert.Equal(5, o.EmptyAnswerConfirmations);
        Assert.Equal("http:/healthz", o.ActiveHealth.Probe);
        Assert.Equal(TimeSpan.FromSeconds(7), o.ActiveHealth.Interval);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), o.ActiveHealth.Timeout);
        Assert.Equal(4, o.ActiveHealth.HealthyThreshold);
        Assert.Equal(6, o.ActiveHealth.UnhealthyThreshold);
        Assert.Equal(9, o.PassiveHealth.ConsecutiveFailures);
        Assert.Equal(25, o.PanicThreshold);

        HeadlessServiceRegistrationOptions r = host.Services.GetRequiredService<HeadlessServiceRegistry>().GetRegistrationOptions("backend");
        Assert.Equal("Ordinal:2", r.Selector);
        Assert.Equal(3, r.MinEndpoints);
        Assert.Equal(TimeSpan.FromSeconds(9), r.StartupTimeout);
        Assert.False(r.FailOnStartupTimeout);
    }

    [Fact]
    public void Code_configuration_runs_after_the_section_and_each_key_binds_its_own_section()
    {
        var config = new Dictionary<string, string?>
        {
            [Section + "Name"] = "web.shop.svc.cluster.local",
            [Section + "Port"] = "8080",
            ["HeadlessDiscovery:Services:cache:Name"] = "redis.shop.svc.cluster.local",
        };
        using IHost host = Build(config, s =>
        {
            s.AddHeadlessService("backend", o => o.Port = 9090).ConfigureRegistration(r => r.Selector = "Random");
            s.AddHeadlessService("cache");
        });

        var monitor = host.Services.GetRequiredService<IOptionsMonitor<HeadlessServiceOptions>>();
        Assert.Equal(9090, monitor.Get("backend").Port);
        Assert.Equal("redis.shop.svc.cluster.local", monitor.Get("cache").Name);
        Assert.Equal(0, monitor.Get("cache").Port);
        Assert.Equal("Random", host.Services.GetRequiredService<HeadlessServiceRegistry>().GetRegistrationOptions("backend").Selector);
        Assert.Equal("RoundRobin", host.Services.GetRequiredService<HeadlessServiceRegistry>().GetRegistrationOptions("cache").Selector);
    }

    [Fact]
    public void Works_without_any_configuration_in_the_container()
    {
        var services = new ServiceCollection();
        services.AddHeadlessService("backend", o => o.Name = "web.shop.svc.cluster.local");
        using ServiceProvider provider = services.BuildServiceProvider();

        IHeadlessService service = provider.GetRequiredKeyedService<IHeadlessService>("backend");
        Assert.Equal("web.shop.svc.cluster.local", service.Name.Value);
    }
}
