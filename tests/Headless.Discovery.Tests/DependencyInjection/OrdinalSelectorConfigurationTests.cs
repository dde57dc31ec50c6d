using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using static Headless.Discovery.Tests.DependencyInjection.DiTestHost;

namespace Headless.Discovery.Tests.DependencyInjection;

/// <summary>The <c>Selector</c> key names a StatefulSet as <c>Ordinal:&lt;set&gt;:&lt;n&gt;</c>.</summary>
public sealed class OrdinalSelectorConfigurationTests
{
    private static IEndpointSelector SelectorFor(string spec)
    {
        var config = new Dictionary<string, string?>
        {
            [Section + "Name"] = "web.default.svc.cluster.local",
            [Section + "DnsServers:0"] = "127.0.0.1:53",
            [Section + "Selector"] = spec,
        };
        using IHost host = Build(config, s => s.AddHeadlessService("backend"));
        return host.Services.GetRequiredKeyedService<IEndpointSelector>("backend");
    }

    [Theory]
    [InlineData("Ordinal", null, 0)]
    [InlineData("Ordinal:2", null, 2)]
    [InlineData("Ordinal:db:0", "db", 0)]
    [InlineData("ordinal: Redis-Cluster : 5", "redis-cluster", 5)]
    [InlineData("Ordinal:123:1", "123", 1)]
    public void Ordinal_takes_an_ordinal_and_optionally_a_statefulset(string spec, string? set, int ordinal)
    {
        var selector = Assert.IsType<OrdinalSelector>(SelectorFor(spec));
        Assert.Equal(set, selector.StatefulSetName);
        Assert.Equal(ordinal, selector.DefaultOrdinal);
    }

    [Theory]
    [InlineData("Ordinal:db", "'db' is not a whole number")]
    [InlineData("Ordinal:db:", "'' is not a whole number")]
    [InlineData("Ordinal:db:-1", "'-1' is not a whole number")]
    [InlineData("Ordinal:web-:0", "'web-' is not a StatefulSet name")]
    [InlineData("Ordinal::0", "'' is not a StatefulSet name")]
    [InlineData("Ordinal:a:b:0", "'a:b' is not a StatefulSet name")]
    public void A_malformed_ordinal_spec_is_refused_with_the_expected_forms(string spec, string expected)
    {
        Exception ex = Assert.ThrowsAny<Exception>(() => SelectorFor(spec));
        Assert.Contains("HeadlessDiscovery:Services:backend:Selector:", ex.Message, StringComparison.Ordinal);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }
}
