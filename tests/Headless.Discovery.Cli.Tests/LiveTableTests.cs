using System.Net;
using Spectre.Console;

namespace Headless.Discovery.Cli.Tests;

/// <summary>
/// <c>watch</c>'s live table (terminal mode), drawn into a string instead of the terminal. Ctrl+C used to end it with
/// NotSupportedException ("error: Specified method is not supported.", exit 1) when the redraw tick won the race against
/// the pending wait for the next change: the change stream was disposed under that wait.
/// </summary>
public sealed class LiveTableTests
{
    [Fact]
    public async Task Cancelling_the_live_table_ends_it_with_OperationCanceledException_whatever_it_was_waiting_for()
    {
        IAnsiConsole previous = AnsiConsole.Console;
        AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(new StringWriter()),
        });
        try
        {
            for (int run = 0; run < 20; run++)
            {
                var answer = ResolutionResult.Success([new PodEndpoint(IPAddress.Parse("10.0.0.1"), 80)], TimeSpan.FromHours(1));
                await using var live = new HeadlessService(ServiceName.Parse("web.default.svc.cluster.local"), new ScriptedResolver(answer), new HeadlessServiceOptions());
                await live.GetEndpointsAsync();
                using var stop = new CancellationTokenSource();
                Task table = LiveTable.RunAsync(live, TimeProvider.System, stop.Token);

                await stop.CancelAsync();

                // A pending wait for the next change must end before the change stream is disposed under it.
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => table.WaitAsync(TimeSpan.FromSeconds(30)));
            }
        }
        finally
        {
            AnsiConsole.Console = previous;
        }
    }

    [Theory]
    [InlineData(80)]
    [InlineData(60)]
    public void Addresses_never_wrap_at_narrow_widths_the_other_columns_give_way(int width)
    {
        // Three pods with hostnames, one with a long last error: the widest a row gets.
        var pods = Enumerable.Range(0, 3).Select(i => new PodEndpoint(IPAddress.Parse($"127.0.0.{51 + i}"), 8080, $"web-{i}.web.default.svc.cluster.local")).ToArray();
        EndpointStatus[] statuses =
        [
            new(pods[0], EndpointHealth.Healthy),
            new(pods[1], EndpointHealth.Unhealthy, lastError: "connection refused (127.0.0.52:8080): the pod is not listening", consecutiveFailures: 3),
            new(pods[2], EndpointHealth.Unknown),
        ];
        EndpointSet set = EndpointSet.Create(ServiceName.Parse("web.default.svc.cluster.local"), statuses, 3, DateTimeOffset.UnixEpoch, TimeSpan.FromSeconds(5));

        var output = new StringWriter();
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(output),
        });
        console.Profile.Width = width;
        console.Write(LiveTable.Build(set, set.Statuses, DateTimeOffset.UnixEpoch, width));

        string[] lines = output.ToString().Split('\n');
        Assert.All(lines, line => Assert.True(line.TrimEnd('\r').Length <= width, $"wider than {width}: '{line}'"));

        // One line per pod: the table is its title, three rules, a header and the three rows.
        Assert.Equal(3, lines.Count(l => l.StartsWith("│ 127.", StringComparison.Ordinal)));
        Assert.DoesNotContain(lines, l => l.StartsWith("│  ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains(pods[1].Key, StringComparison.Ordinal) && l.Contains('…', StringComparison.Ordinal));
        Assert.All(pods, pod => Assert.Contains(lines, line => line.Contains(pod.Key, StringComparison.Ordinal)));
    }
}
