using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using static Headless.Discovery.Tests.DependencyInjection.DiTestHost;

namespace Headless.Discovery.Tests.DependencyInjection;

public sealed class ValidationTests
{
    private static Dictionary<string, string?> Valid() => new()
    {
        [Section + "Name"] = "web.shop.svc.cluster.local",
        [Section + "Port"] = "8080",
    };

    private static async Task<string> StartFailureAsync(Dictionary<string, string?> config, Action<IServiceCollection>? extra = null)
    {
        using IHost host = Build(config, s =>
        {
            s.AddHeadlessService("backend");
            extra?.Invoke(s);
        });
        Exception ex = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync().WaitAsync(Generous));
        return ex is AggregateException aggregate
            ? string.Join(Environment.NewLine, aggregate.InnerExceptions.Select(e => e.Message))
            : ex.Message;
    }

    [Theory]
    [InlineData("MinRefreshInterval", "00:05:00", "HeadlessDiscovery:Services:backend:MinRefreshInterval: 00:05:00 is greater than MaxRefreshInterval")]
    [InlineData("MaxRefreshInterval", "00:00:00", "HeadlessDiscovery:Services:backend:MaxRefreshInterval:")]
    [InlineData("RefreshJitter", "0.9", "HeadlessDiscovery:Services:backend:RefreshJitter:")]
    [InlineData("DnsServers:0", "not-an-ip", "HeadlessDiscovery:Services:backend:DnsServers:0: 'not-an-ip'")]
    [InlineData("DnsServers:0", "::1:53", "HeadlessDiscovery:Services:backend:DnsServers:0: '::1:53' is ambiguous")]
    [InlineData("DnsServers:0", "0.0.0.0", "HeadlessDiscovery:Services:backend:DnsServers:0: '0.0.0.0'")]
    [InlineData("MinRefreshInterval", "00:00:00.001", "HeadlessDiscovery:Services:backend:MinRefreshInterval: 00:00:00.0010000 is below the floor of 100 ms")]
    [InlineData("ActiveHealth:Interval", "00:00:00.0000001", "HeadlessDiscovery:Services:backend:ActiveHealth:Interval: 00:00:00.0000001 is below the floor of 100 ms")]
    [InlineData("PassiveHealth:BaseEjectionTime", "00:00:00.001", "HeadlessDiscovery:Services:backend:PassiveHealth:BaseEjectionTime:")]
    [InlineData("Selector", "Fastest", "HeadlessDiscovery:Services:backend:Selector: 'Fastest': expected RoundRobin")]
    [InlineData("Selector", "Subset:0", "HeadlessDiscovery:Services:backend:Selector:")]
    [InlineData("MinEndpoints", "-1", "HeadlessDiscovery:Services:backend:MinEndpoints:")]
    [InlineData("PassiveHealth:SuccessRateStdevFactor", "0", "HeadlessDiscovery:Services:backend:PassiveHealth:SuccessRateStdevFactor:")]
    [InlineData("PassiveHealth:FailurePercentageThreshold", "101", "HeadlessDiscovery:Services:backend:PassiveHealth:FailurePercentageThreshold:")]
    [InlineData("PassiveHealth:Interval", "00:00:00.01", "HeadlessDiscovery:Services:backend:PassiveHealth:Interval:")]
    [InlineData("StartupTimeout", "00:00:00", "HeadlessDiscovery:Services:backend:StartupTimeout:")]
    [InlineData("ActiveHealth:Probe", "ftp:/x", "HeadlessDiscovery:Services:backend:ActiveHealth:Probe:")]
    [InlineData("ActiveHealth:Interval", "00:00:00", "HeadlessDiscovery:Services:backend:ActiveHealth:Interval:")]
    [InlineData("ActiveHealth:UnhealthyThreshold", "0", "HeadlessDiscovery:Services:backend:ActiveHealth:UnhealthyThreshold:")]
    [InlineData("ActiveHealth:Intervall", "00:00:01", "HeadlessDiscovery:Services:backend:ActiveHealth:Intervall: unknown option")]
    [InlineData("MinRefreshIntreval", "00:00:01", "HeadlessDiscovery:Services:backend:MinRefreshIntreval: unknown option")]
    public async Task A_bad_value_stops_the_host_with_a_message_naming_the_key_and_the_option(string option, string value, string expected)
    {
        Dictionary<string, string?> config = Valid();
        config[Section + option] = value;

        string message = await StartFailureAsync(config);

        Assert.Contains(expected, message, StringComparison.Ordinal);
        Assert.DoesNotContain("(Parameter '", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_bad_value_is_reported_at_once_under_its_configuration_key()
    {
        Dictionary<string, string?> config = Valid();
        config[Section + "DnsServers:0"] = "127.0.0.1";
        config[Section + "DnsServers:1"] = "0.0.0.0";
        config[Section + "ActiveHealth:Interval"] = "00:00:00.001";
        config[Section + "ActiveHealth:Http:Host"] = "a b";
        config[Section + "PassiveHealth:MaxEjectionPercent"] = "101";
        config[Section + "DnsRetryCount"] = "11";

        string message = await StartFailureAsync(config);

        foreach (string key in new[] { "DnsServers:1", "ActiveHealth:Interval", "ActiveHealth:Http:Host", "PassiveHealth:MaxEjectionPercent", "DnsRetryCount" })
        {
            Assert.Contains($"HeadlessDiscovery:Services:backend:{key}: ", message, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("DnsServers:0", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_name_is_reported_with_its_path()
    {
        string message = await StartFailureAsync(new Dictionary<string, string?> { [Section + "Port"] = "80" });
        Assert.Contains("HeadlessDiscovery:Services:backend:Name: is required", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_short_name_without_a_namespace_is_reported_at_startup()
    {
        Dictionary<string, string?> config = Valid();
        config[Section + "Name"] = "web";
        string message = await StartFailureAsync(config, s => s.AddSingleton(NoNamespace()));
        Assert.Contains("HeadlessDiscovery:Services:backend:Name:", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_value_of_the_wrong_type_names_its_path()
    {
        Dictionary<string, string?> config = Valid();
        config[Section + "Port"] = "eighty";
        string message = await StartFailureAsync(config);
        Assert.Contains("HeadlessDiscovery:Services:backend:Port", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_probe_path_set_apart_from_the_probe_spec_is_refused_not_ignored()
    {
        // One name for the probe's path: the spec (ActiveHealth:Probe = http:/ready). A second key for it used to be
        // bound and then silently overwritten by the spec.
        Dictionary<string, string?> config = Valid();
        config[Section + "ActiveHealth:Probe"] = "http:/";
        config[Section + "ActiveHealth:Http:Path"] = "/ready";
        config[Section + "ActiveHealth:Http:UseHttps"] = "true";

        string message = await StartFailureAsync(config);

        Assert.Contains("HeadlessDiscovery:Services:backend:ActiveHealth:Http:Path: unknown option", message, StringComparison.Ordinal);
        Assert.Contains("HeadlessDiscovery:Services:backend:ActiveHealth:Http:UseHttps: unknown option", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_nested_unknown_key_is_reported()
    {
        Dictionary<string, string?> config = Valid();
        config[Section + "Nonsense:Deeper"] = "1";
        string message = await StartFailureAsync(config);
        Assert.Contains("HeadlessDiscovery:Services:backend:Nonsense: unknown option", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_host_the_first_resolution_throws_the_same_message()
    {
        var services = new ServiceCollection();
        services.AddHeadlessService("backend", o => o.Name = "web.shop.svc.cluster.local");
        services.Configure<HeadlessServiceOptions>("backend", o => o.MinRefreshInterval = TimeSpan.FromHours(2));
        using ServiceProvider provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredKeyedService<IHeadlessService>("backend"));
        Assert.Contains("HeadlessDiscovery:Services:backend:MinRefreshInterval:", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_valid_configuration_starts()
    {
        using IHost host = Build(Valid(), s => s.AddHeadlessService("backend"));
        await host.StartAsync().WaitAsync(Generous);
        await host.StopAsync().WaitAsync(Generous);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("a:b")]
    public void A_bad_key_is_rejected_at_registration(string key)
    {
        var services = new ServiceCollection();
        Assert.ThrowsAny<ArgumentException>(() => services.AddHeadlessService(key));
    }
}
