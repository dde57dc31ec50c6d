using System.Net;
using CsCheck;
using Headless.Discovery.TestSupport;
using Headless.Discovery.Testing;

namespace Headless.Discovery.Cli.Tests;

/// <summary>
/// When a name does not resolve, every command prints the library's own error (it knows which query, which server,
/// and why), never a paraphrase of the outcome that can contradict it.
/// </summary>
public sealed class LibraryErrorTests : IAsyncLifetime
{
    private const string Name = "web.default.svc.cluster.local";
    private const string Srv = "_http._tcp." + Name;
    private EmbeddedDnsServer _dns = null!;

    public async Task InitializeAsync()
    {
        // Five SRV targets with IPv4 addresses only: asked for IPv6, none of them has a usable address.
        _dns = await EmbeddedDnsServer.StartAsync();
        var targets = new List<SrvTarget>();
        for (int i = 0; i < 5; i++)
        {
            string host = $"web-{i}.{Name}";
            _dns.SetAddresses(host, [IPAddress.Parse($"10.0.0.{i + 1}")]);
            targets.Add(new SrvTarget(host, 8080));
        }

        _dns.SetSrvRecords(Srv, targets);
    }

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

    /// <summary>The arguments that make <paramref name="command"/> run once against <paramref name="service"/>.</summary>
    private static string[] Args(string command, string service, params string[] extra) => command switch
    {
        "probe" => ["probe", service, "--probe", "tcp", .. extra],
        "fanout" => ["fanout", service, "--http", "/healthz", .. extra],
        _ => [command, service, .. extra],
    };

    [Theory]
    [InlineData("resolve")]
    [InlineData("probe")]
    [InlineData("fanout")]
    public async Task A_command_prints_the_librarys_error_when_no_SRV_target_has_an_address_of_the_family(string command)
    {
        string libraryError = await LibraryErrorAsync(new HeadlessServiceOptions { UseSrv = true, AddressFamily = DnsAddressFamily.IPv6 }, Srv);
        Assert.Contains("none of the 5 SRV target(s)", libraryError, StringComparison.Ordinal);
        CliHarness cli = Cli();

        int exitCode = await cli.RunAsync(Args(command, "_http._tcp.web.default", "--use-srv", "--address-family", "ipv6", "--dns-server", _dns.NameServer));

        Assert.Equal(ExitCodes.NotFound, exitCode);
        Assert.Empty(cli.Stdout.Lines);
        Assert.Contains(Srv, cli.Stderr.Text, StringComparison.Ordinal);
        Assert.Contains(libraryError, cli.Stderr.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("no SRV records", cli.Stderr.Text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("resolve")]
    [InlineData("probe")]
    [InlineData("fanout")]
    public async Task A_command_prints_the_librarys_error_when_every_address_in_the_answer_was_dropped(string command)
    {
        // The name has A records, all unusable: not "no A records".
        _dns.SetAddresses(Name, [IPAddress.Any, IPAddress.Broadcast]);
        string libraryError = await LibraryErrorAsync(new HeadlessServiceOptions { Port = 80 }, Name);
        Assert.Contains("all dropped", libraryError, StringComparison.Ordinal);
        CliHarness cli = Cli();

        int exitCode = await cli.RunAsync(Args(command, "web", "--port", "80", "--dns-server", _dns.NameServer));

        Assert.Equal(ExitCodes.NotFound, exitCode);
        Assert.Contains(libraryError, cli.Stderr.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Watch_prints_the_librarys_error_while_no_SRV_target_has_an_address_of_the_family()
    {
        string libraryError = await LibraryErrorAsync(new HeadlessServiceOptions { UseSrv = true, AddressFamily = DnsAddressFamily.IPv6 }, Srv);
        await using var run = new BackgroundRun(Cli().Services, "watch", "_http._tcp.web.default", "--use-srv", "--address-family", "ipv6", "--dns-server", _dns.NameServer);

        (_, string line) = await run.Stdout.WaitForTextAsync(libraryError);

        Assert.Contains("0 pods", line, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Ok, await run.StopAsync());
    }

    [Fact]
    public async Task Watch_shows_why_it_keeps_the_last_known_pods_when_the_SRV_targets_lose_their_addresses()
    {
        for (int i = 0; i < 5; i++)
        {
            _dns.SetAddresses($"web-{i}.{Name}", [IPAddress.Parse($"fd00::{i + 1}")], TimeSpan.Zero);
        }

        await using var run = new BackgroundRun(
            Cli().Services,
            "watch", "_http._tcp.web.default", "--use-srv", "--address-family", "ipv6", "--dns-server", _dns.NameServer, "--min-refresh-interval", "100ms", "--max-refresh-interval", "200ms");
        (int first, _) = await run.Stdout.WaitForTextAsync("5 pods");

        for (int i = 0; i < 5; i++)
        {
            _dns.SetAddresses($"web-{i}.{Name}", [IPAddress.Parse($"10.0.0.{i + 1}")], TimeSpan.Zero);
        }

        // The library's stale error (an empty answer not yet confirmed) and the resolver's reason it wraps.
        (_, string stale) = await run.Stdout.WaitForTextAsync("STALE", first + 1);
        Assert.Contains("answered NODATA", stale, StringComparison.Ordinal);
        Assert.Contains("none of the 5 SRV target(s)", stale, StringComparison.Ordinal);
        Assert.DoesNotContain("DNS is failing", stale, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Ok, await run.StopAsync());
    }

    [Fact]
    public async Task The_live_table_shows_the_librarys_reason_for_an_empty_or_stale_set()
    {
        ServiceName service = ServiceName.Parse(Srv);
        // Only the library builds a DnsResolutionException; the CLI renders any resolver's error the same way.
        var why = new InvalidOperationException($"none of the 5 SRV target(s) of '{Srv}' has a usable address.");
        var answers = new Queue<ResolutionResult>([
            ResolutionResult.NoData(error: why),
            ResolutionResult.Success([new PodEndpoint(IPAddress.Parse("10.0.0.1"), 80)], TimeSpan.FromHours(1)),
            ResolutionResult.NoData(error: why),
        ]);
        await using var live = new HeadlessService(service, new QueuedResolver(answers), new HeadlessServiceOptions { EmptyAnswerConfirmations = 3 });

        EndpointSet empty = await live.GetEndpointsAsync();
        Assert.Contains(Squeeze(why.Message), Render(empty), StringComparison.Ordinal);

        await live.RefreshAsync();
        EndpointSet stale = await live.RefreshAsync();
        Assert.True(stale.StaleSince is not null);
        string staleTable = Render(stale);
        Assert.Contains(Squeeze("STALE (last known pods): '_http"), staleTable, StringComparison.Ordinal);
        Assert.Contains(Squeeze("answered NODATA"), staleTable, StringComparison.Ordinal);
        Assert.Contains(Squeeze(why.Message), staleTable, StringComparison.Ordinal);
    }

    private sealed class QueuedResolver(Queue<ResolutionResult> answers) : IEndpointResolver
    {
        public ValueTask<ResolutionResult> ResolveAsync(ServiceName service, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(answers.Dequeue());
    }

    private static string Squeeze(string text) => string.Concat(text.Where(c => !char.IsWhiteSpace(c)));

    /// <summary>The live table as plain text without whitespace (the title wraps at the table's width).</summary>
    private static string Render(EndpointSet set)
    {
        var text = new StringWriter();
        Spectre.Console.IAnsiConsole console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings
        {
            Ansi = Spectre.Console.AnsiSupport.No,
            ColorSystem = Spectre.Console.ColorSystemSupport.NoColors,
            Out = new Spectre.Console.AnsiConsoleOutput(text),
        });
        console.Profile.Width = 2000;
        console.Write(LiveTable.Build(set, [], DateTimeOffset.UnixEpoch));
        return Squeeze(string.Concat(text.ToString().Where(c => !"│─╭╮╰╯┬┴┼├┤".Contains(c, StringComparison.Ordinal))));
    }

    [Fact]
    public async Task Every_one_shot_command_prints_whatever_error_the_library_gives_and_exits_by_outcome()
    {
        Gen<(string Command, ResolutionOutcome Outcome, string Message)> cases =
            from command in Gen.OneOf("resolve", "probe", "fanout")
            from outcome in Gen.OneOf(ResolutionOutcome.NotFound, ResolutionOutcome.NoData, ResolutionOutcome.Failed)
            from message in Gen.String[Gen.Char[' ', '~'], 1, 80]
            select (command, outcome, message);

        await Property.ForAllAsync(
            cases,
            iterations: 200,
            seed: 0x10120001UL,
            async c =>
            {
                // Only the library builds a DnsResolutionException; the CLI prints any resolver's error the same way.
                var error = new InvalidOperationException(c.Message);
                var cli = new CliHarness
                {
                    Services = CliHarness.WithResolver((_, _) => c.Outcome switch
                    {
                        ResolutionOutcome.NotFound => ResolutionResult.NotFound(error: error),
                        ResolutionOutcome.NoData => ResolutionResult.NoData(error: error),
                        _ => ResolutionResult.Failed(error),
                    }),
                };

                int exitCode = await cli.RunAsync(Args(c.Command, "web.default", "--port", "80", "--json"));

                Assert.Equal(c.Outcome == ResolutionOutcome.Failed ? ExitCodes.DnsFailure : ExitCodes.NotFound, exitCode);
                Assert.Empty(cli.Stdout.Lines);
                Assert.Contains(Name, cli.Stderr.Text, StringComparison.Ordinal);
                Assert.Contains(c.Message, cli.Stderr.Text, StringComparison.Ordinal);
            });
    }

    /// <summary>What the library itself says about <paramref name="name"/> with <paramref name="options"/> (against our server).</summary>
    private async Task<string> LibraryErrorAsync(HeadlessServiceOptions options, string name)
    {
        options.DnsServers.Add(_dns.NameServer);
        var resolver = new DnsEndpointResolver(options);
        ResolutionResult result = await resolver.ResolveAsync(ServiceName.Parse(name));
        Assert.False(result.Outcome == ResolutionOutcome.Success, $"{name} resolved");
        return Assert.IsAssignableFrom<Exception>(result.Error).Message;
    }
}
