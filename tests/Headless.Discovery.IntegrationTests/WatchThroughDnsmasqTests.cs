using System.Net;
using Headless.Discovery.Cli;
using Headless.Discovery.Cli.Tests;

namespace Headless.Discovery.IntegrationTests;

/// <summary><c>headless-discovery watch --json</c> following a real dnsmasq whose hosts files change.</summary>
[Collection(DnsmasqTests.Name)]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class WatchThroughDnsmasqTests(DnsmasqFixture dnsmasq)
{
    /// <summary>The --max-refresh-interval the watch runs with; every change must show up within it plus one second.</summary>
    private static readonly TimeSpan MaxRefresh = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ChangeBound = MaxRefresh + TimeSpan.FromSeconds(1);

    /// <summary>
    /// Every DNS attempt here expects an answer (even the frozen test's first and last ones), so the attempt timeout is
    /// generous: a short one on a loaded machine made the first round fail and the first line an empty snapshot.
    /// </summary>
    private BackgroundRun StartWatch(string name) => new(
        CliServices.Default,
        "watch", name, "--dns-server", dnsmasq.NameServer, "--port", "80",
        "--min-refresh-interval", "200ms", "--max-refresh-interval", DurationParser.Format(MaxRefresh), "--dns-attempt-timeout", "5s", "--dns-retry-count", "0", "--json");

    private static string[] Keys(IEnumerable<IPAddress> addresses) => addresses.Select(a => $"{a}:80").ToArray();

    [Fact]
    public async Task FollowsScaleUpAndScaleDown()
    {
        const string name = "watch-churn.default.svc.cluster.local";
        IReadOnlyList<IPAddress> five = Addresses.Range(30, 5);
        await dnsmasq.SetHostsAsync(name, five.Take(3).ToArray());
        await using BackgroundRun run = StartWatch(name);

        (int i, WatchLine initial) = await WatchLine.WaitAsync(run.Stdout, _ => true, what: "the initial snapshot");
        Assert.Equal(Keys(five.Take(3)), initial.Endpoints);

        // Scale up 3 -> 5. The bound starts once dnsmasq has re-read the file.
        await dnsmasq.SetHostsAsync(name, five);
        (i, WatchLine up) = await WatchLine.WaitAsync(run.Stdout, w => w.Endpoints.Length == 5, i + 1, ChangeBound, "5 endpoints within --max-refresh-interval + 1s");
        Assert.Equal(Keys(five), up.Endpoints);
        Assert.Equal(Keys(five.Skip(3)), up.Added);
        Assert.Empty(up.Removed);
        Assert.False(up.Stale);

        // Scale down 5 -> 2.
        await dnsmasq.SetHostsAsync(name, five.Take(2).ToArray());
        (i, WatchLine down) = await WatchLine.WaitAsync(run.Stdout, w => w.Endpoints.Length == 2, i + 1, ChangeBound, "2 endpoints within --max-refresh-interval + 1s");
        Assert.Equal(Keys(five.Take(2)), down.Endpoints);
        Assert.Empty(down.Added);
        Assert.Equal(Keys(five.Skip(2)), down.Removed);
        Assert.True(down.Version > up.Version && up.Version > initial.Version);

        Assert.Equal(0, await run.StopAsync());
        Assert.All(run.Stdout.Lines, line => WatchLine.Parse(line));
    }

    [Fact]
    public async Task FrozenDnsmasqMakesTheSetStaleAndKeepsTheEndpoints()
    {
        const string name = "watch-frozen.default.svc.cluster.local";
        IReadOnlyList<IPAddress> three = Addresses.Range(31, 3);
        await dnsmasq.SetHostsAsync(name, three);
        await using BackgroundRun run = StartWatch(name);
        (int i, _) = await WatchLine.WaitAsync(run.Stdout, _ => true, what: "the initial snapshot");

        WatchLine stale;
        dnsmasq.Freeze();
        try
        {
            (i, stale) = await WatchLine.WaitAsync(run.Stdout, w => w.Stale, i + 1, what: "stale:true while dnsmasq is stopped");
        }
        finally
        {
            dnsmasq.Thaw();
        }

        Assert.Equal(Keys(three), stale.Endpoints);
        Assert.Empty(stale.Added);
        Assert.Empty(stale.Removed);

        (_, WatchLine fresh) = await WatchLine.WaitAsync(run.Stdout, w => !w.Stale, i + 1, what: "stale:false after SIGCONT");
        Assert.Equal(Keys(three), fresh.Endpoints);
        Assert.Equal(0, await run.StopAsync());
    }
}
