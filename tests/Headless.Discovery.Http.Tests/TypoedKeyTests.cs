using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Headless.Discovery.Http.Tests;

/// <summary>A typo'd key in <c>AddHeadlessServiceEndpoints</c> names the key that is registered.</summary>
public sealed class TypoedKeyTests
{
    [Fact]
    public void A_typoed_key_fails_saying_it_is_not_registered_and_which_is()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["HeadlessDiscovery:Services:backend:Name"] = "web.shop.svc.cluster.local",
            ["HeadlessDiscovery:Services:backend:DnsServers:0"] = "127.0.0.1:53",
        }).Build());
        services.AddHeadlessService("backend");
        services.AddHttpClient("backend", c => c.BaseAddress = new Uri("http://backnd/")).AddHeadlessServiceEndpoints("backnd");
        using ServiceProvider provider = services.BuildServiceProvider();

        var ex = Assert.ThrowsAny<Exception>(() => provider.GetRequiredService<IHttpClientFactory>().CreateClient("backend"));
        Assert.Contains("no headless service 'backnd' is registered; registered: backend (did you mean 'backend'?)", ex.Message, StringComparison.Ordinal);
    }
}
