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
        Assert.Equal(ordinal, selector.Ordinal);
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

    public static TheoryData<string, string> RefusedSpecs => new()
    {
        { " ", "expected RoundRobin, Random, LeastRequest[:<choices>], PickFirst, Ordinal[:<n>], Ordinal:<set>:<n> or Subset:<size>." },
        { "Ordinal:x", "'x' is not a whole number 0 or more (to name a StatefulSet, write Ordinal:<set>:<n>, e.g. Ordinal:db:0)." },
        { "Ordinal:db:x", "'x' is not a whole number 0 or more." },
        { "Subset:x", "'x' is not a whole number 0 or more." },
        { "Subset:0", "Subset needs a size of 1 or more, e.g. Subset:3." },
        { "Ordinal:web-:0", "'web-' is not a StatefulSet name (letters, digits and '-', not starting or ending with '-'); expected RoundRobin, Random, LeastRequest[:<choices>], PickFirst, Ordinal[:<n>], Ordinal:<set>:<n> or Subset:<size>." },
        { "Random:1", "Random takes no argument; expected RoundRobin, Random, LeastRequest[:<choices>], PickFirst, Ordinal[:<n>], Ordinal:<set>:<n> or Subset:<size>." },
    };

    [Theory]
    [MemberData(nameof(RefusedSpecs))]
    public void A_refused_selector_value_says_what_is_wrong_and_what_is_expected(string spec, string reason)
    {
        Exception ex = Assert.ThrowsAny<Exception>(() => SelectorFor(spec));
        Assert.Equal($"HeadlessDiscovery:Services:backend:Selector: '{spec}': {reason}", ex.Message);
    }

    [Fact]
    public void A_subset_of_one_pod_is_a_valid_selector() =>
        Assert.Equal("Subset over web.default.svc.cluster.local", SelectorFor("Subset:1").ToString());
}
