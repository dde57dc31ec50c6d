using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using static Headless.Discovery.Tests.DependencyInjection.DiTestHost;

namespace Headless.Discovery.Tests.DependencyInjection;

/// <summary>The <c>Selector</c> key names least request with its choice count; <c>MaxLeasesPerPod</c> sets the per-pod limit.</summary>
public sealed class LeastRequestConfigurationTests
{
    private static IEndpointSelector SelectorFor(string spec, string? maxLeases = null)
    {
        var config = new Dictionary<string, string?>
        {
            [Section + "Name"] = "web.default.svc.cluster.local",
            [Section + "DnsServers:0"] = "127.0.0.1:53",
            [Section + "Selector"] = spec,
            [Section + "MaxLeasesPerPod"] = maxLeases,
        };
        using IHost host = Build(config, s => s.AddHeadlessService("backend"));
        return host.Services.GetRequiredKeyedService<IEndpointSelector>("backend");
    }

    [Theory]
    [InlineData("LeastRequest", null, "LeastRequest(2) over web.default.svc.cluster.local")]
    [InlineData("leastrequest: 3", null, "LeastRequest(3) over web.default.svc.cluster.local")]
    [InlineData("LeastRequest:64", "10", "LeastRequest(64, max 10 leases/pod) over web.default.svc.cluster.local")]
    [InlineData("LeastRequest:2", "7", "LeastRequest(2, max 7 leases/pod) over web.default.svc.cluster.local")]
    public void Least_request_takes_a_choice_count_and_the_per_pod_limit(string spec, string? maxLeases, string expected) =>
        Assert.Equal(expected, SelectorFor(spec, maxLeases).ToString());

    [Theory]
    [InlineData("Selector", "LeastRequest:1", "HeadlessDiscovery:Services:backend:Selector: 'LeastRequest:1': LeastRequest compares 2 to 64 pods per pick")]
    [InlineData("Selector", "LeastRequest:65", "HeadlessDiscovery:Services:backend:Selector: 'LeastRequest:65': LeastRequest compares 2 to 64 pods per pick")]
    [InlineData("Selector", "RoundRobin:2", "HeadlessDiscovery:Services:backend:Selector: 'RoundRobin:2': RoundRobin takes no argument")]
    [InlineData("MaxLeasesPerPod", "0", "HeadlessDiscovery:Services:backend:MaxLeasesPerPod:")]
    [InlineData("Selector", "PowerOfTwoChoices", "HeadlessDiscovery:Services:backend:Selector: 'PowerOfTwoChoices': power of two choices is LeastRequest (two choices by default); expected RoundRobin, Random, LeastRequest[:<choices>], PickFirst")]
    [InlineData("Selector", "p2c", "HeadlessDiscovery:Services:backend:Selector: 'p2c': power of two choices is LeastRequest (two choices by default); expected RoundRobin")]
    public void A_bad_value_names_its_key(string option, string value, string expected)
    {
        var config = new Dictionary<string, string?>
        {
            [Section + "Name"] = "web.default.svc.cluster.local",
            [Section + "DnsServers:0"] = "127.0.0.1:53",
            [Section + option] = value,
        };
        using IHost host = Build(config, s => s.AddHeadlessService("backend"));
        var ex = Assert.ThrowsAny<Exception>(() => host.Services.GetRequiredKeyedService<IEndpointSelector>("backend"));
        Assert.Contains(expected, ex is AggregateException a ? string.Join("\n", a.InnerExceptions.Select(e => e.Message)) : ex.Message, StringComparison.Ordinal);
    }
}
