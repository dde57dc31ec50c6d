using System.Net;
using System.Text.Json;
using Headless.Discovery.Testing;
using Spectre.Console;

namespace Headless.Discovery.Cli.Tests;

/// <summary><c>watch --probe</c>, <c>probe</c> and the live table, against the in-process DNS server and real loopback pods.</summary>
public sealed class HealthCommandTests : IAsyncLifetime
{
    private const string Name = "web.default.svc.cluster.local";
    private EmbeddedDnsServer _dns = null!;
    private LoopbackPodSet _pods = null!;

    public async Task InitializeAsync()
    {
        _dns = await EmbeddedDnsServer.StartAsync();
        _pods = await LoopbackPodSet.StartAsync(3, namePrefix: "web");
        _pods.SyncToDns(_dns, Name, TimeSpan.FromSeconds(1));
    }

    public async Task DisposeAsync()
    {
        await _pods.DisposeAsync();
        await _dns.DisposeAsync();
    }

    private static readonly CliServices Services = new()
    {
        Qualify = name => ServiceName.Qualify(name, CliHarness.TestEnvironment),
        CreateResolver = CliServices.Default.CreateResolver,
        CreateService = CliServices.Default.CreateService,
    };

    private string Key(LoopbackPod pod) => $"{pod.Address}:{_pods.Port}";

    private string[] Dns(params string[] extra) =>
        ["--dns-server", _dns.NameServer, "--port", _pods.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--dns-attempt-timeout", "2s", "--dns-retry-count", "1", .. extra];

    [Fact]
    public async Task WatchJsonReportsHealthAndEachTransition()
    {
        await using var run = new BackgroundRun(Services, [
            "watch", "web", .. Dns("--json", "--min-refresh-interval", "100ms", "--max-refresh-interval", "500ms",
                "--probe", "http:/healthz", "--probe-interval", "100ms", "--probe-timeout", "1s", "--unhealthy-threshold", "2", "--healthy-threshold", "1")]);

        (int i, WatchLine healthy) = await WatchLine.WaitAsync(run.Stdout, w => w.Healthy.Length == 3 && w.Healthy.All(h => h == true), what: "all healthy");
        LoopbackPod victim = _pods.Pods[1];

        await victim.StopAsync();
        (i, WatchLine down) = await WatchLine.WaitAsync(run.Stdout, w => w.HealthOf(Key(victim)) == false, i + 1, what: "the stopped pod healthy:false");
        Assert.Empty(down.Added);
        Assert.Empty(down.Removed);
        Assert.Equal(healthy.Endpoints, down.Endpoints);
        Assert.True(down.Version > healthy.Version);
        Assert.Equal(2, down.Healthy.Count(h => h == true));

        await victim.StartAsync();
        (_, WatchLine up) = await WatchLine.WaitAsync(run.Stdout, w => w.HealthOf(Key(victim)) == true, i + 1, what: "the restarted pod healthy:true");
        Assert.True(up.Version > down.Version);

        Assert.Equal(0, await run.StopAsync());
        Assert.All(run.Stdout.Lines, line => WatchLine.Parse(line));
    }

    [Fact]
    public async Task WatchWithoutProbeKeepsHealthyNull()
    {
        var cli = new CliHarness { Services = Services };
        int exitCode = await cli.RunAsync(["watch", "web", .. Dns("--json", "--duration", "300ms")]).WaitAsync(LineWriter.DefaultTimeout);
        Assert.Equal(0, exitCode);
        Assert.All(cli.Stdout.Lines.Select(WatchLine.Parse), w => Assert.All(w.Healthy, h => Assert.Null(h)));
    }

    [Fact]
    public async Task WatchTextPrintsHealthTransitions()
    {
        _pods.Pods[2].Behavior = PodBehavior.Status(503);
        await using var run = new BackgroundRun(Services, [
            "watch", "web", .. Dns("--probe", "http:/", "--probe-interval", "100ms", "--probe-timeout", "5s")]);

        (_, string line) = await run.Stdout.WaitForTextAsync($"    ~ {Key(_pods.Pods[2])} unhealthy (HTTP 503 is outside 200-399)");
        Assert.StartsWith("    ~ ", line, StringComparison.Ordinal);
        await run.Stdout.WaitForTextAsync("2 healthy, 1 unhealthy");
        Assert.Equal(0, await run.StopAsync());
    }

    [Fact]
    public async Task ProbeJsonHasTheDocumentedShape()
    {
        _pods.Pods[1].Behavior = PodBehavior.Status(500);
        await _pods.Pods[2].StopAsync();
        var cli = new CliHarness { Services = Services };

        int exitCode = await cli.RunAsync(["probe", "web", .. Dns("--probe", "http:/", "--probe-timeout", "10s", "--json")]).WaitAsync(LineWriter.DefaultTimeout);

        Assert.True(exitCode == 0, cli.Stderr.Text);
        string line = Assert.Single(cli.Stdout.Lines);
        using JsonDocument doc = JsonDocument.Parse(line);
        Assert.Equal(["service", "endpoints"], doc.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(Name, doc.RootElement.GetProperty("service").GetString());
        JsonElement[] endpoints = [.. doc.RootElement.GetProperty("endpoints").EnumerateArray()];
        Assert.Equal(3, endpoints.Length);
        Assert.All(endpoints, e =>
        {
            Assert.Equal(["address", "port", "healthy", "latencyMs", "error"], e.EnumerateObject().Select(p => p.Name));
            Assert.Equal(_pods.Port, e.GetProperty("port").GetInt32());
            Assert.Equal(JsonValueKind.Number, e.GetProperty("latencyMs").ValueKind);
            Assert.True(e.GetProperty("latencyMs").GetDouble() >= 0);
        });
        Assert.Equal(_pods.Pods.Select(p => p.Address.ToString()), endpoints.Select(e => e.GetProperty("address").GetString()));
        Assert.Equal([true, false, false], endpoints.Select(e => e.GetProperty("healthy").GetBoolean()));
        Assert.Equal(JsonValueKind.Null, endpoints[0].GetProperty("error").ValueKind);
        Assert.Equal("HTTP 500 is outside 200-399", endpoints[1].GetProperty("error").GetString());
        Assert.Contains("ConnectionRefused", endpoints[2].GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Empty(cli.Stderr.Lines);
    }

    [Fact]
    public async Task ProbeTcpTextListsEachPod()
    {
        await _pods.Pods[0].StopAsync();
        var cli = new CliHarness { Services = Services };

        int exitCode = await cli.RunAsync(["probe", "web", .. Dns("--probe", "tcp")]).WaitAsync(LineWriter.DefaultTimeout);

        Assert.Equal(0, exitCode);
        Assert.Equal($"{Name}: 3 pods, 2 healthy (tcp)", cli.Stdout.Lines[0]);
        Assert.Contains("UNHEALTHY", cli.Stdout.Lines[1], StringComparison.Ordinal);
        Assert.Contains(Key(_pods.Pods[0]), cli.Stdout.Lines[1], StringComparison.Ordinal);
        Assert.Contains("healthy", cli.Stdout.Lines[2], StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProbeUsesResolveExitCodesForDnsProblems()
    {
        var cli = new CliHarness { Services = Services };
        Assert.Equal(ExitCodes.NotFound, await cli.RunAsync(["probe", "missing", .. Dns("--probe", "tcp", "--json")]));
        Assert.Contains("NXDOMAIN", cli.Stderr.Text, StringComparison.Ordinal);
        Assert.Empty(cli.Stdout.Lines);

        _dns.InjectFault(DnsFault.Drop);
        var failing = new CliHarness { Services = Services };
        Assert.Equal(ExitCodes.DnsFailure, await failing.RunAsync(["probe", "web", .. Dns("--probe", "tcp", "--json")]));
        Assert.Empty(failing.Stdout.Lines);
    }

    [Fact]
    public async Task LiveTableShowsOneRowPerPodWithItsHealth()
    {
        _pods.Pods[1].Behavior = PodBehavior.Status(500);
        var options = new HeadlessServiceOptions { Name = Name + ".", Port = _pods.Port };
        options.DnsServers.Add(_dns.NameServer);
        options.ActiveHealth.Probe = "http:/";
        options.ActiveHealth.Interval = TimeSpan.FromMilliseconds(100);
        await using var live = new HeadlessService(options);
        using var settled = new CancellationTokenSource(LineWriter.DefaultTimeout);
        await foreach (EndpointSetChange change in live.WatchAsync(settled.Token))
        {
            if (change.Current.HealthyCount == 2 && change.Current.UnhealthyCount == 1)
            {
                break;
            }
        }

        var text = new StringWriter();
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Out = new AnsiConsoleOutput(text),
        });
        console.Profile.Width = 200;
        console.Write(LiveTable.Build(live.Current, live.GetHealthDetails(), TimeProvider.System.GetUtcNow()));
        string table = text.ToString();

        Assert.Contains("3 pods, 2 healthy, 1 unhealthy", table, StringComparison.Ordinal);
        foreach (string header in new[] { "address", "hostname", "health", "last latency", "failures", "since change" })
        {
            Assert.Contains(header, table, StringComparison.Ordinal);
        }

        string row = table.Split('\n').Single(l => l.Contains(Key(_pods.Pods[1]), StringComparison.Ordinal));
        Assert.Contains("unhealthy", row, StringComparison.Ordinal);
        Assert.Contains(" ms", row, StringComparison.Ordinal);
        Assert.Contains("HTTP 500 is outside 200-399", row, StringComparison.Ordinal);
        Assert.Equal(2, table.Split('\n').Count(l => l.Contains(" healthy ", StringComparison.Ordinal)));
    }
}
