using System.Net;
using System.Text.Json;
using Headless.Discovery.Cli;
using Headless.Discovery.Cli.Tests;

namespace Headless.Discovery.IntegrationTests;

/// <summary><c>headless-discovery resolve</c> against a real dnsmasq.</summary>
[Collection(DnsmasqTests.Name)]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class ResolveThroughDnsmasqTests(DnsmasqFixture dnsmasq)
{
    [Fact]
    public async Task ResolvesAServiceWithItsTtl()
    {
        const string name = "resolve-small.default.svc.cluster.local";
        await dnsmasq.SetHostsAsync(name, [IPAddress.Parse("10.20.0.3"), IPAddress.Parse("10.20.0.1"), IPAddress.Parse("10.20.0.2")]);
        var stdout = new LineWriter();
        var stderr = new LineWriter();

        int exitCode = await CliApp.RunAsync(["resolve", name, "--dns-server", dnsmasq.NameServer, "--port", "80", "--json"], stdout, stderr, CancellationToken.None);

        Assert.True(exitCode == 0, stderr.Text);
        Assert.Equal(
            """{"service":"resolve-small.default.svc.cluster.local","ttl":1,"endpoints":[{"address":"10.20.0.1","port":80,"hostname":null},{"address":"10.20.0.2","port":80,"hostname":null},{"address":"10.20.0.3","port":80,"hostname":null}]}""",
            Assert.Single(stdout.Lines));
    }

    [Fact]
    public async Task UnknownNameExits2()
    {
        var stdout = new LineWriter();
        var stderr = new LineWriter();

        int exitCode = await CliApp.RunAsync(["resolve", "nobody-here.default.svc.cluster.local", "--dns-server", dnsmasq.NameServer], stdout, stderr, CancellationToken.None);

        Assert.Equal(ExitCodes.NotFound, exitCode);
        Assert.Contains("nobody-here.default.svc.cluster.local", stderr.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResolvesAll3000EndpointsOfA3000PodService()
    {
        // 3000 A records do not fit a UDP answer: dnsmasq sets TC and the resolver must fall back to TCP.
        const string name = "resolve-big.default.svc.cluster.local";
        IReadOnlyList<IPAddress> addresses = Addresses.Range(21, 3000);
        await dnsmasq.SetHostsAsync(name, addresses);
        var stdout = new LineWriter();
        var stderr = new LineWriter();

        int exitCode = await CliApp.RunAsync(["resolve", name, "--dns-server", dnsmasq.NameServer, "--port", "6379", "--json"], stdout, stderr, CancellationToken.None);

        Assert.True(exitCode == 0, stderr.Text);
        using JsonDocument doc = JsonDocument.Parse(Assert.Single(stdout.Lines));
        string[] got = doc.RootElement.GetProperty("endpoints").EnumerateArray().Select(e => e.GetProperty("address").GetString()!).ToArray();
        Assert.Equal(3000, got.Length);
        Assert.Equal(addresses.Select(a => a.ToString()), got);
    }

    [Fact]
    public async Task FrozenServerExits3()
    {
        const string name = "resolve-frozen.default.svc.cluster.local";
        await dnsmasq.SetHostsAsync(name, [IPAddress.Parse("10.22.0.1")]);
        var stdout = new LineWriter();
        var stderr = new LineWriter();

        int exitCode;
        dnsmasq.Freeze();
        try
        {
            exitCode = await CliApp.RunAsync(["resolve", name, "--dns-server", dnsmasq.NameServer, "--dns-attempt-timeout", "300ms", "--dns-retry-count", "0"], stdout, stderr, CancellationToken.None);
        }
        finally
        {
            dnsmasq.Thaw();
        }

        Assert.Equal(ExitCodes.DnsFailure, exitCode);
    }
}
