using System.Text.RegularExpressions;

namespace Headless.Discovery.Cli.Tests;

/// <summary><c>demo</c> runs its whole script on loopback and ends by itself.</summary>
public class DemoCommandTests
{
    [Fact]
    public async Task RunsToCompletionAndNarratesTheChurn()
    {
        var cli = new CliHarness();

        int exitCode = await cli.RunAsync("demo", "--pace", "100ms").WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(exitCode == 0, cli.Stderr.Text + "\n" + cli.Stdout.Text);
        string text = cli.Stdout.Text;
        Assert.Contains("3 pods", text, StringComparison.Ordinal);
        Assert.Contains("Step 1/4: scaling up to 5 pods", text, StringComparison.Ordinal);
        Assert.Contains("5 pods (+2 -0)", text, StringComparison.Ordinal);
        Assert.Contains("Step 2/4: replacing pod headless-nginx-1", text, StringComparison.Ordinal);
        Assert.Contains("5 pods (+1 -1)", text, StringComparison.Ordinal);
        Assert.Contains("Step 3/4: scaling down to 2 pods", text, StringComparison.Ordinal);
        Assert.Contains("2 pods (+0 -3)", text, StringComparison.Ordinal);
        Assert.Contains("-> 200 from headless-nginx-0", text, StringComparison.Ordinal);
        Assert.Contains("Step 4/4: pod headless-nginx-0", text, StringComparison.Ordinal);
        Assert.Contains("unhealthy (timed out after 500 ms)", text, StringComparison.Ordinal);
        Assert.Contains("saw it healthy again", text, StringComparison.Ordinal);
        Assert.True(text.IndexOf("saw it turn unhealthy", StringComparison.Ordinal) < text.IndexOf("saw it healthy again", StringComparison.Ordinal));
        Assert.DoesNotContain("failed", text, StringComparison.Ordinal);
        Assert.Contains("Done in", text, StringComparison.Ordinal);

        // The narrative comes before the change it announces.
        Assert.True(text.IndexOf("Step 1/4", StringComparison.Ordinal) < text.IndexOf("5 pods (+2 -0)", StringComparison.Ordinal));
        Assert.True(text.IndexOf("Step 3/4", StringComparison.Ordinal) < text.IndexOf("2 pods (+0 -3)", StringComparison.Ordinal));
        Assert.Empty(cli.Stderr.Lines);
    }

    [Fact]
    public async Task JsonPutsWatchLinesOnStdoutAndTheStoryOnStderr()
    {
        var cli = new CliHarness();

        int exitCode = await cli.RunAsync("demo", "--json", "--pace", "0s", "--no-http").WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(exitCode == 0, cli.Stderr.Text);
        WatchLine[] lines = cli.Stdout.Lines.Select(WatchLine.Parse).ToArray();
        Assert.Equal([3, 5, 5, 2], lines.Where(l => !l.Stale && l.Added.Length + l.Removed.Length > 0).Select(l => l.Endpoints.Length));
        Assert.Contains(lines, l => l.Healthy.Contains(false));
        Assert.True(lines[^1].Healthy.All(h => h == true), "the sick pod came back");
        Assert.All(lines, l => Assert.Equal("headless-nginx.default.svc.cluster.local", l.Service));
        Assert.All(lines.SelectMany(l => l.Endpoints), e => Assert.Matches(new Regex(@"^127\.\d+\.\d+\.\d+:\d+$"), e));
        Assert.Contains("Step 2/4", cli.Stderr.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CancellationEndsTheDemoWithExitZero()
    {
        await using var run = new BackgroundRun(CliServices.Default, "demo", "--pace", "30s");
        await run.Stdout.WaitForTextAsync("3 pods");

        Assert.Equal(0, await run.StopAsync());
        Assert.Contains("Interrupted", run.Stdout.Text, StringComparison.Ordinal);
    }
}
