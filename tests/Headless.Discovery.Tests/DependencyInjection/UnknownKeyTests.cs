using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using static Headless.Discovery.Tests.DependencyInjection.DiTestHost;

namespace Headless.Discovery.Tests.DependencyInjection;

/// <summary>A key that nothing configures (a typo in code or configuration) fails naming the keys that are configured.</summary>
public sealed class UnknownKeyTests
{
    private static Dictionary<string, string?> Backend() => new()
    {
        [Section + "Name"] = "web.default.svc.cluster.local",
        [Section + "DnsServers:0"] = "127.0.0.1:53",
    };

    [Fact]
    public void A_key_with_no_name_in_configuration_or_code_fails_as_not_registered_naming_the_registered_ones()
    {
        // What AddHeadlessServiceEndpoints("backnd") does for a typo'd key: it registers the key it was given.
        using IHost host = Build(Backend(), s =>
        {
            s.AddHeadlessService("backend");
            s.AddHeadlessService("backnd");
        });

        var ex = Assert.ThrowsAny<Exception>(() => host.Services.GetRequiredKeyedService<IHeadlessService>("backnd"));
        string message = ex is AggregateException a ? string.Join("\n", a.InnerExceptions.Select(e => e.Message)) : ex.Message;
        Assert.Contains("no headless service 'backnd' is registered; registered: backend", message, StringComparison.Ordinal);
        Assert.Contains("did you mean 'backend'?", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_key_configured_without_a_name_still_says_the_name_is_required()
    {
        var config = Backend();
        config["HeadlessDiscovery:Services:cache:Port"] = "6379";
        using IHost host = Build(config, s =>
        {
            s.AddHeadlessService("backend");
            s.AddHeadlessService("cache");
        });

        var ex = Assert.ThrowsAny<Exception>(() => host.Services.GetRequiredKeyedService<IHeadlessService>("cache"));
        string message = ex is AggregateException a ? string.Join("\n", a.InnerExceptions.Select(e => e.Message)) : ex.Message;
        Assert.Contains("HeadlessDiscovery:Services:cache:Name: is required", message, StringComparison.Ordinal);
    }
}
