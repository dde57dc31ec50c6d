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

    private static string FailureOf(IHost host, string key)
    {
        var ex = Assert.ThrowsAny<Exception>(() => host.Services.GetRequiredKeyedService<IHeadlessService>(key));
        return ex is AggregateException a ? string.Join("\n", a.InnerExceptions.Select(e => e.Message)) : ex.Message;
    }

    [Fact]
    public void With_no_other_named_key_the_message_says_none_and_how_to_name_it()
    {
        var config = new Dictionary<string, string?> { ["HeadlessDiscovery:Services:other:Port"] = "80", ["HeadlessDiscovery:Services:empty:Name"] = string.Empty };
        using IHost host = Build(config, s =>
        {
            s.AddHeadlessService("backnd");
            s.AddHeadlessService("empty");
        });

        string message = FailureOf(host, "backnd");
        Assert.Contains("no headless service 'backnd' is registered; registered: none.", message, StringComparison.Ordinal);
        Assert.Contains("Give it a Name in configuration (HeadlessDiscovery:Services:backnd:Name) or in AddHeadlessService(\"backnd\", o => o.Name = …).", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_key_named_only_in_code_is_listed_and_a_far_typo_gets_no_hint()
    {
        using IHost host = Build(new Dictionary<string, string?>(), s =>
        {
            s.AddHeadlessService("backend", o => o.Name = "web.default.svc.cluster.local");
            s.AddHeadlessService("zzz");
        });

        string message = FailureOf(host, "zzz");
        Assert.Contains("no headless service 'zzz' is registered; registered: backend. Give it", message, StringComparison.Ordinal);
        Assert.DoesNotContain("did you mean", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_under_a_name_no_key_registered_are_not_validated()
    {
        using IHost host = Build(Backend(), s => s.AddHeadlessService("backend"));

        // Someone else's named options of the same type: not ours to judge.
        Assert.Null(host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<HeadlessServiceOptions>>().Get("someone-else").Name);
        Assert.Equal("RoundRobin", host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<HeadlessServiceRegistrationOptions>>().Get("someone-else").Selector);
    }

    [Fact]
    public void A_short_name_that_cannot_be_qualified_is_named_beside_the_other_problems()
    {
        var config = new Dictionary<string, string?>
        {
            [Section + "Name"] = "web",
            [Section + "DnsRetryCount"] = "99",
        };
        using IHost host = Build(config, s =>
        {
            s.AddSingleton(NoNamespace());
            s.AddHeadlessService("backend");
        });

        string message = FailureOf(host, "backend");
        Assert.Contains("HeadlessDiscovery:Services:backend:DnsRetryCount:", message, StringComparison.Ordinal);
        Assert.Contains("HeadlessDiscovery:Services:backend:Name:", message, StringComparison.Ordinal);
    }
}
