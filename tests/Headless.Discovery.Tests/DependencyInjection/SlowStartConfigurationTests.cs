using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using static Headless.Discovery.Tests.DependencyInjection.DiTestHost;

namespace Headless.Discovery.Tests.DependencyInjection;

/// <summary>The <c>SlowStart</c> section of a service's configuration ramps the configured selector.</summary>
public sealed class SlowStartConfigurationTests
{
    private static Dictionary<string, string?> Config(string selector, params (string Key, string Value)[] slowStart)
    {
        var config = new Dictionary<string, string?>
        {
            [Section + "Name"] = "web.default.svc.cluster.local",
            [Section + "DnsServers:0"] = "127.0.0.1:53",
            [Section + "Selector"] = selector,
        };
        foreach ((string key, string value) in slowStart)
        {
            config[Section + "SlowStart:" + key] = value;
        }

        return config;
    }

    [Theory]
    [InlineData("RoundRobin", "RoundRobin (slow start 45 s) over web.default.svc.cluster.local")]
    [InlineData("Random", "Random (slow start 45 s) over web.default.svc.cluster.local")]
    [InlineData("LeastRequest", "LeastRequest(2, slow start 45 s) over web.default.svc.cluster.local")]
    [InlineData("LeastRequest:3", "LeastRequest(3, slow start 45 s) over web.default.svc.cluster.local")]
    public void The_section_ramps_the_configured_selector(string selector, string expected)
    {
        using IHost host = Build(Config(selector, ("Window", "00:00:45"), ("Aggression", "2"), ("MinWeightPercent", "20")), s => s.AddHeadlessService("backend"));
        var registry = host.Services.GetRequiredService<HeadlessServiceRegistry>();

        SlowStartOptions bound = registry.GetRegistrationOptions("backend").SlowStart!;
        Assert.Equal((TimeSpan.FromSeconds(45), 2.0, 20.0), (bound.Window, bound.Aggression, bound.MinWeightPercent));
        Assert.Equal(expected, host.Services.GetRequiredKeyedService<IEndpointSelector>("backend").ToString());
    }

    [Fact]
    public void Without_the_section_nothing_ramps() =>
        Assert.Null(Build(Config("RoundRobin"), s => s.AddHeadlessService("backend")).Services
            .GetRequiredService<HeadlessServiceRegistry>().GetRegistrationOptions("backend").SlowStart);

    [Theory]
    [InlineData("PickFirst", "Window", "00:00:10", "HeadlessDiscovery:Services:backend:SlowStart: the PickFirst selector does not ramp pods")]
    [InlineData("RoundRobin", "Window", "00:00:00.001", "HeadlessDiscovery:Services:backend:SlowStart:Window: 00:00:00.0010000 is below the floor")]
    [InlineData("Random", "Aggression", "11", "HeadlessDiscovery:Services:backend:SlowStart:Aggression: 11 must be between 0.1 and 10")]
    [InlineData("LeastRequest", "MinWeightPercent", "0", "HeadlessDiscovery:Services:backend:SlowStart:MinWeightPercent: 0 must be between 1 and 100 (percent)")]
    public void A_bad_value_names_its_key(string selector, string key, string value, string expected)
    {
        using IHost host = Build(Config(selector, (key, value)), s => s.AddHeadlessService("backend"));
        var ex = Assert.ThrowsAny<Exception>(() => host.Services.GetRequiredKeyedService<IEndpointSelector>("backend"));
        Assert.Contains(expected, ex is AggregateException a ? string.Join("\n", a.InnerExceptions.Select(e => e.Message)) : ex.Message, StringComparison.Ordinal);
    }
}
