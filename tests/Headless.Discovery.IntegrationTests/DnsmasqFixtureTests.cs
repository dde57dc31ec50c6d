using System.Net;

namespace Headless.Discovery.IntegrationTests;

/// <summary>The fixture itself: dnsmasq answers, reloads hosts files, and serves large answers over TCP.</summary>
[Collection(DnsmasqTests.Name)]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class DnsmasqFixtureTests(DnsmasqFixture dnsmasq)
{
    [Fact]
    public async Task ServesAndReloadsHostsFiles()
    {
        const string name = "fixture-reload.default.svc.cluster.local";
        await dnsmasq.SetHostsAsync(name, [IPAddress.Parse("10.9.0.1"), IPAddress.Parse("10.9.0.2")]);
        await dnsmasq.WaitUntilServedAsync(name, 2);

        await dnsmasq.SetHostsAsync(name, [IPAddress.Parse("10.9.0.3")]);
        await dnsmasq.WaitUntilServedAsync(name, 1);
    }

    [Fact]
    public async Task ServesThreeThousandAddressesOverTcp()
    {
        const string name = "fixture-big.default.svc.cluster.local";
        await dnsmasq.SetHostsAsync(name, Addresses.Range(10, 3000));

        await dnsmasq.WaitUntilServedAsync(name, 3000);
    }
}
