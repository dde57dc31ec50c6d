using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using static Headless.Discovery.Tests.DependencyInjection.DiTestHost;

namespace Headless.Discovery.Tests.DependencyInjection;

/// <summary>
/// Each service logs the options it runs with, once, at Information (#15.5): code configuration runs after the
/// configuration section, so when both set an option the log shows which won.
/// </summary>
public sealed class EffectiveOptionsLogTests
{
    [Fact]
    public void A_service_logs_its_effective_options_in_one_line_and_code_wins_over_configuration()
    {
        var config = new Dictionary<string, string?>
        {
            [Section + "Name"] = "web.shop.svc.cluster.local",
            [Section + "Port"] = "8080",
            [Section + "DnsServers:0"] = "127.0.0.1:5354",
            [Section + "MinRefreshInterval"] = "2s",
            [Section + "ActiveHealth:Probe"] = "http:/healthz",
            [Section + "Selector"] = "LeastRequest:3",
        };
        var logs = new ListLoggerProvider();
        using IHost host = Build(config, s =>
        {
            s.AddLogging(b => b.AddProvider(logs));
            s.AddHeadlessService("backend", o => o.Port = 80);
        });

        host.Services.GetRequiredKeyedService<IHeadlessService>("backend");

        string line = Assert.Single(logs.Entries, e => e.EventId == 1402).Message;
        Assert.Equal(LogLevel.Information, Assert.Single(logs.Entries, e => e.EventId == 1402).Level);
        Assert.Equal(
            "Headless service 'backend': web.shop.svc.cluster.local port 80, DNS 127.0.0.1:5354 (IPv4, A/AAAA), refresh 2s to 30s, "
            + "probe http:/healthz every 5s, passive ejection on, panic below 50 %, selector LeastRequest:3, startup waits for 0 pod(s).",
            line);
    }
}
