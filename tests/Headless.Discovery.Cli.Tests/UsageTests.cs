using System.Net;

namespace Headless.Discovery.Cli.Tests;

public class UsageTests
{
    private static CliHarness NeverResolving() => new()
    {
        Services = CliHarness.WithResolver((_, _) => throw new InvalidOperationException("A usage error must not reach DNS.")),
    };

    [Theory]
    [InlineData("frobnicate")]
    [InlineData("resolve")]
    [InlineData("resolve", "web", "--port", "70000")]
    [InlineData("resolve", "web", "--port", "eighty")]
    [InlineData("resolve", "web", "--address-family", "ipv5")]
    [InlineData("resolve", "web", "--dns-server", "not-an-ip")]
    [InlineData("resolve", "web", "--dns-server", "127.0.0.1:99999")]
    [InlineData("resolve", "web", "--dns-attempt-timeout", "soon")]
    [InlineData("resolve", "web", "--dns-retry-count", "11")]
    [InlineData("resolve", "web", "--bogus")]
    [InlineData("resolve", "bad_name!")]
    [InlineData("resolve", "a..b")]
    [InlineData("watch", "web", "--duration", "5x")]
    [InlineData("watch", "web", "--min-refresh-interval", "0s")]
    [InlineData("watch", "web", "--min-refresh-interval", "10s", "--max-refresh-interval", "1s")]
    [InlineData("watch", "web", "--max-refresh-interval")]
    [InlineData("watch", "web", "--probe", "ftp:/")]
    [InlineData("watch", "web", "--probe", "http")]
    [InlineData("watch", "web", "--probe", "http:healthz")]
    [InlineData("watch", "web", "--probe-interval", "0s")]
    [InlineData("watch", "web", "--probe-timeout", "soon")]
    [InlineData("watch", "web", "--healthy-threshold", "0")]
    [InlineData("watch", "web", "--unhealthy-threshold", "101")]
    [InlineData("probe", "web")]
    [InlineData("probe", "web", "--probe", "none")]
    [InlineData("probe", "web", "--probe", "udp")]
    public async Task BadUsageExits64WithAMessage(params string[] args)
    {
        CliHarness cli = NeverResolving();

        int exitCode = await cli.RunAsync(args);

        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.NotEmpty(cli.Stderr.Lines);
        Assert.All(cli.Stderr.Lines, line => Assert.StartsWith("headless-discovery: ", line, StringComparison.Ordinal));
        Assert.Empty(cli.Stdout.Lines);
    }

    [Theory]
    [InlineData("--min-refresh-interval", "1ms", "--min-refresh-interval")]
    [InlineData("--probe-interval", "1ms", "--probe-interval")]
    [InlineData("--dns-server", "::1:53", "[::1]:53")]
    [InlineData("--dns-server", "0.0.0.0", "unspecified")]
    public async Task AValueBelowItsFloorOrAnAmbiguousServerIsAUsageErrorNamingIt(string option, string value, string expected)
    {
        CliHarness cli = NeverResolving();

        int exitCode = await cli.RunAsync("watch", "web", "--probe", "tcp", option, value);

        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.Contains(expected, cli.Stderr.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryInvalidOptionIsReportedAtOnceUnderItsFlag()
    {
        CliHarness cli = NeverResolving();

        int exitCode = await cli.RunAsync(
            "watch", "web", "--probe", "tcp", "--probe-interval", "1ms", "--probe-timeout", "1ms", "--min-refresh-interval", "1ms",
            "--dns-server", "127.0.0.1", "--dns-server", "0.0.0.0", "--dns-attempt-timeout", "1ms");

        Assert.Equal(ExitCodes.Usage, exitCode);
        foreach (string flag in new[] { "--probe-interval", "--probe-timeout", "--min-refresh-interval", "--dns-server", "--dns-attempt-timeout" })
        {
            Assert.Single(cli.Stderr.Lines, line => line.StartsWith($"headless-discovery: {flag}: ", StringComparison.Ordinal));
        }

        Assert.DoesNotContain("ActiveHealth", cli.Stderr.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("Interval", cli.Stderr.Text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("resolve", "--timeout")]
    [InlineData("watch", "--timeout")]
    [InlineData("fanout", "--timeout")]
    [InlineData("resolve", "--retries")]
    [InlineData("resolve", "--family")]
    [InlineData("watch", "--min-refresh")]
    [InlineData("fanout", "--parallelism")]
    [InlineData("fanout", "--dns-timeout")]
    public async Task TheOldFlagNamesAreGone(string command, string flag)
    {
        CliHarness cli = NeverResolving();

        int exitCode = await cli.RunAsync(command, "web", "--http", "/", flag, "1");

        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.Contains(flag, cli.Stderr.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BareInvocationPrintsTheHelp()
    {
        CliHarness cli = NeverResolving();

        int exitCode = await cli.RunAsync();

        Assert.Equal(0, exitCode);
        Assert.Contains("Usage:", cli.Stdout.Text, StringComparison.Ordinal);
        Assert.Contains("resolve", cli.Stdout.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("Required command was not provided", cli.Stderr.Text + cli.Stdout.Text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("resolv", "resolve")]
    [InlineData("wach", "watch")]
    [InlineData("fan-out", "fanout")]
    public async Task AMistypedCommandGetsADidYouMean(string typed, string meant)
    {
        CliHarness cli = NeverResolving();

        int exitCode = await cli.RunAsync(typed, "web.default");

        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.Contains($"headless-discovery: '{typed}' is not a command; did you mean '{meant}'?", cli.Stderr.Lines);
        Assert.DoesNotContain("Required command was not provided", cli.Stderr.Text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("-5s", "--duration must be greater than zero ('-5s' is negative)")]
    [InlineData("0s", "--duration must be greater than zero")]
    public async Task ADurationThatCannotRunSaysWhy(string value, string expected)
    {
        CliHarness cli = NeverResolving();

        int exitCode = await cli.RunAsync("watch", "web.default", "--duration", value);

        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.Contains(expected, cli.Stderr.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABadOptionValueIsNamedInTheMessage()
    {
        CliHarness cli = NeverResolving();

        await cli.RunAsync("watch", "web", "--duration", "5x");

        Assert.Contains("--duration '5x' is not a duration", cli.Stderr.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AShortNameWithoutANamespaceIsAUsageError()
    {
        string dir = Directory.CreateTempSubdirectory("hd-cli-nons-").FullName;
        var nowhere = new KubernetesDnsEnvironment(Path.Combine(dir, "none"), Path.Combine(dir, "none"), _ => null);
        var cli = new CliHarness
        {
            Services = new CliServices
            {
                Qualify = name => ServiceName.Qualify(name, nowhere),
                CreateResolver = _ => throw new InvalidOperationException("must not resolve"),
                CreateService = (_, _, _) => throw new InvalidOperationException("must not watch"),
            },
        };

        int exitCode = await cli.RunAsync("resolve", "web");

        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.Contains("web.<namespace>", cli.Stderr.Text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("resolve", "--help")]
    [InlineData("watch", "--help")]
    public async Task HelpExitsZeroAndListsTheOptions(params string[] args)
    {
        var cli = new CliHarness();

        int exitCode = await cli.RunAsync(args);

        Assert.Equal(0, exitCode);
        Assert.Contains("Usage:", cli.Stdout.Text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ipv4", DnsAddressFamily.IPv4)]
    [InlineData("6", DnsAddressFamily.IPv6)]
    [InlineData("Both", DnsAddressFamily.Both)]
    [InlineData("ipv4-preferred", DnsAddressFamily.IPv4Preferred)]
    [InlineData("IPv6Preferred", DnsAddressFamily.IPv6Preferred)]
    public async Task EveryAddressFamilySpellingReachesTheResolver(string flag, DnsAddressFamily expected)
    {
        HeadlessServiceOptions? seen = null;
        var cli = new CliHarness
        {
            Services = CliHarness.WithResolver((options, _) =>
            {
                seen = options;
                return ResolutionResult.Success([new PodEndpoint(IPAddress.Loopback, options.Port)], TimeSpan.FromSeconds(1));
            }),
        };

        Assert.Equal(0, await cli.RunAsync("resolve", "web", "--dns-server", "127.0.0.1:5353", "--address-family", flag));
        Assert.Equal(expected, seen!.AddressFamily);
    }

    [Fact]
    public async Task OptionsReachTheResolver()
    {
        HeadlessServiceOptions? seen = null;
        ServiceName? asked = null;
        var cli = new CliHarness
        {
            Services = CliHarness.WithResolver((options, service) =>
            {
                seen = options;
                asked = service;
                return ResolutionResult.Success([new PodEndpoint(IPAddress.Loopback, options.Port)], TimeSpan.FromSeconds(1));
            }),
        };

        int exitCode = await cli.RunAsync(
            "resolve", "web", "--dns-server", "127.0.0.1:5353", "--dns-server", "127.0.0.2", "--port", "8080",
            "--address-family", "both", "--dns-attempt-timeout", "750ms", "--dns-retry-count", "0");

        Assert.Equal(0, exitCode);
        Assert.NotNull(seen);
        Assert.Equal("web.default.svc.cluster.local", asked!.Value);
        Assert.Equal(["127.0.0.1:5353", "127.0.0.2"], seen.DnsServers);
        Assert.Equal(8080, seen.Port);
        Assert.Equal(DnsAddressFamily.Both, seen.AddressFamily);
        Assert.Equal(TimeSpan.FromMilliseconds(750), seen.DnsAttemptTimeout);
        Assert.Equal(0, seen.DnsRetryCount);
        Assert.False(seen.UseSrv);
    }

    [Theory]
    [InlineData(ResolutionOutcome.NotFound, ExitCodes.NotFound, "NXDOMAIN")]
    [InlineData(ResolutionOutcome.NoData, ExitCodes.NotFound, "NODATA")]
    [InlineData(ResolutionOutcome.Failed, ExitCodes.DnsFailure, "DNS lookup failed")]
    public async Task OutcomesMapToExitCodes(ResolutionOutcome outcome, int expectedExitCode, string expectedText)
    {
        var cli = new CliHarness
        {
            Services = CliHarness.WithResolver((_, _) => outcome switch
            {
                ResolutionOutcome.NotFound => ResolutionResult.NotFound(),
                ResolutionOutcome.NoData => ResolutionResult.NoData(),
                _ => ResolutionResult.Failed(new TimeoutException("timed out")),
            }),
        };

        int exitCode = await cli.RunAsync("resolve", "web.default", "--json");

        Assert.Equal(expectedExitCode, exitCode);
        Assert.Empty(cli.Stdout.Lines);
        Assert.Contains("web.default.svc.cluster.local", cli.Stderr.Text, StringComparison.Ordinal);
        Assert.Contains(expectedText, cli.Stderr.Text, StringComparison.Ordinal);
    }
}
