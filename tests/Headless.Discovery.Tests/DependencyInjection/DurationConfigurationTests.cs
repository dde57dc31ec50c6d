using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using static Headless.Discovery.Tests.DependencyInjection.DiTestHost;

namespace Headless.Discovery.Tests.DependencyInjection;

/// <summary>Configuration takes durations the way the CLI and README write them (#15.4).</summary>
public sealed class DurationConfigurationTests
{
    private static Dictionary<string, string?> With(params (string Key, string Value)[] values)
    {
        var config = new Dictionary<string, string?>
        {
            [Section + "Name"] = "web.default.svc.cluster.local",
            [Section + "DnsServers:0"] = "127.0.0.1:53",
        };
        foreach ((string key, string value) in values)
        {
            config[Section + key] = value;
        }

        return config;
    }

    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("5s", 5_000)]
    [InlineData("1m", 60_000)]
    [InlineData("1m30s", 90_000)]
    [InlineData("00:00:05", 5_000)]
    [InlineData(" 2s ", 2_000)]
    public void A_duration_is_read_in_every_spelling_the_cli_takes(string text, int milliseconds)
    {
        using IHost host = Build(
            With(("MinRefreshInterval", text), ("MaxRefreshInterval", "10m"), ("ActiveHealth:Timeout", text), ("ActiveHealth:Interval", "5m"), ("SlowStart:Window", "30s"), ("StartupTimeout", "10s")),
            s => s.AddHeadlessService("backend"));

        HeadlessServiceOptions options = host.Services.GetRequiredService<IOptionsMonitor<HeadlessServiceOptions>>().Get("backend");
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), options.MinRefreshInterval);
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), options.ActiveHealth.Timeout);
        HeadlessServiceRegistrationOptions registration = host.Services.GetRequiredService<HeadlessServiceRegistry>().GetRegistrationOptions("backend");
        Assert.Equal(TimeSpan.FromSeconds(30), registration.SlowStart!.Window);
        Assert.Equal(TimeSpan.FromSeconds(10), registration.StartupTimeout);
    }

    [Fact]
    public void A_value_that_is_no_duration_is_named_with_its_key_beside_every_other_problem()
    {
        using IHost host = Build(With(("MinRefreshInterval", "5 seconds"), ("PassiveHealth:BaseEjectionTime", "fast"), ("DnsRetryCount", "-1")), s => s.AddHeadlessService("backend"));

        var ex = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptionsMonitor<HeadlessServiceOptions>>().Get("backend"));
        Assert.Contains("HeadlessDiscovery:Services:backend:MinRefreshInterval: '5 seconds' is not a duration: use e.g. 500ms, 5s, 1m, 1m30s or 00:00:05.", ex.Failures);
        Assert.Contains("HeadlessDiscovery:Services:backend:PassiveHealth:BaseEjectionTime: 'fast' is not a duration: use e.g. 500ms, 5s, 1m, 1m30s or 00:00:05.", ex.Failures);
        Assert.Contains(ex.Failures, f => f.StartsWith("HeadlessDiscovery:Services:backend:DnsRetryCount:", StringComparison.Ordinal));
    }
}
