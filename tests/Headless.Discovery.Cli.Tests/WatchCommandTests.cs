using System.Net;
using Headless.Discovery.Testing;

namespace Headless.Discovery.Cli.Tests;

/// <summary><c>watch</c> end to end against the in-process DNS server on loopback.</summary>
public sealed class WatchCommandTests : IAsyncLifetime
{
    private const string Name = "web.default.svc.cluster.local";
    private EmbeddedDnsServer _dns = null!;

    public async Task InitializeAsync() => _dns = await EmbeddedDnsServer.StartAsync();

    public async Task DisposeAsync() => await _dns.DisposeAsync();

    private static readonly CliServices Services = new()
    {
        Qualify = name => ServiceName.Qualify(name, CliHarness.TestEnvironment),
        CreateResolver = CliServices.Default.CreateResolver,
        CreateService = CliServices.Default.CreateService,
    };

    /// <summary>A watch that refreshes often; its DNS attempts expect answers, so their timeout is generous.</summary>
    private string[] FastWatch(params string[] extra) => Watch("10s", extra);

    /// <summary>A watch whose DNS attempts are meant to fail (dropped queries): a short attempt timeout, no retry.</summary>
    private string[] DroppingWatch(params string[] extra) => Watch("250ms", extra);

    private string[] Watch(string attemptTimeout, string[] extra) =>
        ["watch", "web", "--dns-server", _dns.NameServer, "--port", "80", "--min-refresh-interval", "100ms", "--max-refresh-interval", "200ms", "--dns-attempt-timeout", attemptTimeout, "--dns-retry-count", "0", .. extra];

    [Fact]
    public async Task JsonEmitsTheInitialSnapshotThenEachChange()
    {
        _dns.SetAddresses(Name, [IPAddress.Parse("10.0.0.2"), IPAddress.Parse("10.0.0.1")], TimeSpan.Zero);
        await using var run = new BackgroundRun(Services, FastWatch("--json"));

        (int first, WatchLine initial) = await WatchLine.WaitAsync(run.Stdout, _ => true, what: "the initial snapshot");
        Assert.Equal(0, first);
        Assert.Equal(Name, initial.Service);
        Assert.False(initial.Stale);
        Assert.Equal(["10.0.0.1:80", "10.0.0.2:80"], initial.Endpoints);
        Assert.Equal(["10.0.0.1:80", "10.0.0.2:80"], initial.Added);
        Assert.Empty(initial.Removed);

        _dns.SetAddresses(Name, [IPAddress.Parse("10.0.0.2"), IPAddress.Parse("10.0.0.3")], TimeSpan.Zero);
        (int second, WatchLine change) = await WatchLine.WaitAsync(run.Stdout, w => w.Added.Length > 0, first + 1, what: "the change");
        Assert.Equal(["10.0.0.2:80", "10.0.0.3:80"], change.Endpoints);
        Assert.Equal(["10.0.0.3:80"], change.Added);
        Assert.Equal(["10.0.0.1:80"], change.Removed);
        Assert.True(change.Version > initial.Version);
        Assert.True(change.Time >= initial.Time);

        Assert.Equal(0, await run.StopAsync());
        Assert.All(run.Stdout.Lines, line => WatchLine.Parse(line));
        Assert.Empty(run.Stderr.Lines);
    }

    [Fact]
    public async Task DnsFailureEmitsAStaleLineKeepingTheEndpoints()
    {
        _dns.SetAddresses(Name, [IPAddress.Parse("10.0.0.1")], TimeSpan.Zero);
        await using var run = new BackgroundRun(Services, DroppingWatch("--json"));

        // The short attempt timeout is for the dropped queries; on a loaded machine an early round may time out too,
        // so the endpoints are known once a fresh line lists them.
        (int first, _) = await WatchLine.WaitAsync(run.Stdout, w => !w.Stale && w.Endpoints.Length == 1, what: "a fresh snapshot with the endpoint");

        _dns.InjectFault(DnsFault.Drop);
        (int staleIndex, WatchLine stale) = await WatchLine.WaitAsync(run.Stdout, w => w.Stale, first + 1, what: "stale:true");
        Assert.Equal(["10.0.0.1:80"], stale.Endpoints);
        Assert.Empty(stale.Added);
        Assert.Empty(stale.Removed);

        _dns.ClearFaults();
        (_, WatchLine fresh) = await WatchLine.WaitAsync(run.Stdout, w => !w.Stale, staleIndex + 1, what: "stale:false again");
        Assert.Equal(["10.0.0.1:80"], fresh.Endpoints);

        Assert.Equal(0, await run.StopAsync());
    }

    [Fact]
    public async Task DurationEndsTheWatchWithExitZero()
    {
        _dns.SetAddresses(Name, [IPAddress.Parse("10.0.0.1")]);
        var cli = new CliHarness { Services = Services };

        int exitCode = await cli.RunAsync(FastWatch("--json", "--duration", "300ms")).WaitAsync(LineWriter.DefaultTimeout);

        Assert.Equal(0, exitCode);
        Assert.Equal(["10.0.0.1:80"], WatchLine.Parse(cli.Stdout.Lines[0]).Endpoints);
    }

    [Fact]
    public async Task CancellationEndsTheWatchWithExitZero()
    {
        _dns.SetAddresses(Name, [IPAddress.Parse("10.0.0.1")]);
        await using var run = new BackgroundRun(Services, FastWatch());
        await run.Stdout.WaitForTextAsync("v1");

        Assert.Equal(0, await run.StopAsync());
    }

    [Fact]
    public async Task TextOutputIsReadable()
    {
        _dns.SetAddresses(Name, [IPAddress.Parse("10.0.0.1")], TimeSpan.Zero);
        await using var run = new BackgroundRun(Services, DroppingWatch());

        // The short attempt timeout is for the dropped queries; on a loaded machine an early round may time out too.
        (int header, _) = await run.Stdout.WaitForTextAsync("web.default.svc.cluster.local: 1 pod");
        await run.Stdout.WaitForTextAsync("    + 10.0.0.1:80", header);

        _dns.SetAddresses(Name, [IPAddress.Parse("10.0.0.1"), IPAddress.Parse("10.0.0.5")], TimeSpan.Zero);
        (int second, string changed) = await run.Stdout.WaitForTextAsync("2 pods (+1 -0)", header + 1);
        await run.Stdout.WaitForTextAsync("    + 10.0.0.5:80", second);

        _dns.InjectFault(DnsFault.Drop);
        (_, string stale) = await run.Stdout.WaitForTextAsync("STALE", second + 1);
        Assert.Contains("2 pods", stale, StringComparison.Ordinal);

        Assert.Equal(0, await run.StopAsync());
    }
}
