using System.Net;
using System.Text.Json;
using Headless.Discovery.Testing;

namespace Headless.Discovery.Cli.Tests;

/// <summary><c>resolve</c> end to end against the in-process DNS server on loopback.</summary>
public sealed class ResolveCommandTests : IAsyncLifetime
{
    private const string Name = "web.default.svc.cluster.local";
    private EmbeddedDnsServer _dns = null!;

    public async Task InitializeAsync() => _dns = await EmbeddedDnsServer.StartAsync();

    public async Task DisposeAsync() => await _dns.DisposeAsync();

    private static CliHarness Cli() => new()
    {
        Services = new CliServices
        {
            Qualify = name => ServiceName.Qualify(name, CliHarness.TestEnvironment),
            CreateResolver = CliServices.Default.CreateResolver,
            CreateService = CliServices.Default.CreateService,
        },
    };

    [Fact]
    public async Task JsonListsEndpointsSortedByAddressThenPort()
    {
        _dns.SetAddresses(Name, [IPAddress.Parse("10.0.0.10"), IPAddress.Parse("10.0.0.2"), IPAddress.Parse("10.0.0.1"), IPAddress.Parse("9.255.255.255")], TimeSpan.FromSeconds(7));
        CliHarness cli = Cli();

        int exitCode = await cli.RunAsync("resolve", "web", "--dns-server", _dns.NameServer, "--port", "8080", "--json");

        Assert.Equal(0, exitCode);
        string line = Assert.Single(cli.Stdout.Lines);
        Assert.Equal(
            """{"service":"web.default.svc.cluster.local","ttl":7,"endpoints":[{"address":"9.255.255.255","port":8080,"hostname":null},{"address":"10.0.0.1","port":8080,"hostname":null},{"address":"10.0.0.2","port":8080,"hostname":null},{"address":"10.0.0.10","port":8080,"hostname":null}]}""",
            line);
        Assert.Empty(cli.Stderr.Lines);
    }

    [Fact]
    public async Task SrvGivesPortsAndHostnamesSortedByAddressThenPort()
    {
        const string srv = "_http._tcp." + Name;
        _dns.SetAddresses("web-0." + Name, [IPAddress.Parse("10.0.0.2")]);
        _dns.SetAddresses("web-1." + Name, [IPAddress.Parse("10.0.0.1")]);
        _dns.SetSrvRecords(srv, [new SrvTarget("web-0." + Name, 8081), new SrvTarget("web-1." + Name, 8080), new SrvTarget("web-0." + Name, 8080)]);
        CliHarness cli = Cli();

        int exitCode = await cli.RunAsync("resolve", "_http._tcp.web.default", "--use-srv", "--dns-server", _dns.NameServer, "--json");

        Assert.Equal(0, exitCode);
        using JsonDocument doc = JsonDocument.Parse(Assert.Single(cli.Stdout.Lines));
        Assert.Equal(srv, doc.RootElement.GetProperty("service").GetString());
        Assert.Equal(
            ["10.0.0.1:8080 web-1." + Name, "10.0.0.2:8080 web-0." + Name, "10.0.0.2:8081 web-0." + Name],
            doc.RootElement.GetProperty("endpoints").EnumerateArray().Select(e =>
                $"{e.GetProperty("address").GetString()}:{e.GetProperty("port").GetInt32()} {e.GetProperty("hostname").GetString()}"));
    }

    [Fact]
    public async Task WithoutAPortTheTextOutputListsAddressesAndSaysHowToGetOne()
    {
        _dns.SetAddresses(Name, [IPAddress.Parse("10.0.0.2"), IPAddress.Parse("10.0.0.1")]);
        CliHarness cli = Cli();

        int exitCode = await cli.RunAsync("resolve", Name, "--dns-server", _dns.NameServer);

        Assert.Equal(0, exitCode);
        Assert.Equal(
            ["web.default.svc.cluster.local: 2 pods, ttl 5s (A records carry no port: give --port, or --use-srv for the named port's)", "  10.0.0.1", "  10.0.0.2"],
            cli.Stdout.Lines);
    }

    [Fact]
    public async Task TextOutputListsOneEndpointPerLine()
    {
        _dns.SetAddresses(Name, [IPAddress.Parse("10.0.0.2"), IPAddress.Parse("10.0.0.1")]);
        CliHarness cli = Cli();

        int exitCode = await cli.RunAsync("resolve", Name, "--dns-server", _dns.NameServer, "--port", "80");

        Assert.Equal(0, exitCode);
        Assert.Equal(["web.default.svc.cluster.local: 2 pods, ttl 5s", "  10.0.0.1:80", "  10.0.0.2:80"], cli.Stdout.Lines);
    }

    [Fact]
    public async Task NxDomainExits2NamingTheService()
    {
        CliHarness cli = Cli();

        int exitCode = await cli.RunAsync("resolve", "missing", "--dns-server", _dns.NameServer, "--json");

        Assert.Equal(ExitCodes.NotFound, exitCode);
        Assert.Empty(cli.Stdout.Lines);
        Assert.Contains("missing.default.svc.cluster.local", cli.Stderr.Text, StringComparison.Ordinal);
        Assert.Contains("NXDOMAIN", cli.Stderr.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoDataExits2NamingTheService()
    {
        _dns.SetAddresses(Name, []);
        CliHarness cli = Cli();

        int exitCode = await cli.RunAsync("resolve", Name, "--dns-server", _dns.NameServer);

        Assert.Equal(ExitCodes.NotFound, exitCode);
        Assert.Empty(cli.Stdout.Lines);
        Assert.Contains(Name, cli.Stderr.Text, StringComparison.Ordinal);
        Assert.Contains("NODATA", cli.Stderr.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DroppedQueriesExit3()
    {
        _dns.SetAddresses(Name, [IPAddress.Parse("10.0.0.1")]);
        _dns.InjectFault(DnsFault.Drop);
        CliHarness cli = Cli();

        int exitCode = await cli.RunAsync("resolve", Name, "--dns-server", _dns.NameServer, "--dns-attempt-timeout", "200ms", "--dns-retry-count", "0", "--json");

        Assert.Equal(ExitCodes.DnsFailure, exitCode);
        Assert.Empty(cli.Stdout.Lines);
        Assert.Contains(Name, cli.Stderr.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServerDownExits3()
    {
        EmbeddedDnsServer gone = await EmbeddedDnsServer.StartAsync();
        string nameServer = gone.NameServer;
        await gone.DisposeAsync();
        CliHarness cli = Cli();

        int exitCode = await cli.RunAsync("resolve", Name, "--dns-server", nameServer, "--dns-attempt-timeout", "200ms", "--dns-retry-count", "1");

        Assert.Equal(ExitCodes.DnsFailure, exitCode);
        Assert.Contains("DNS lookup failed", cli.Stderr.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServerFailureExits3()
    {
        _dns.InjectFault(DnsFault.ServerFailure);
        CliHarness cli = Cli();

        int exitCode = await cli.RunAsync("resolve", Name, "--dns-server", _dns.NameServer, "--dns-retry-count", "0");

        Assert.Equal(ExitCodes.DnsFailure, exitCode);
    }
}
