using System.Collections.Immutable;
using System.Globalization;
using Spectre.Console;

namespace Headless.Discovery.Cli;

/// <summary>
/// <c>watch</c> on a terminal without <c>--json</c>: a live table, one row per pod, redrawn on every change and twice a
/// second (so "since" ticks): address, hostname, health, last latency, consecutive failures, time since the last change.
/// </summary>
internal static class LiveTable
{
    private const int MaxRows = 200;
    private static readonly TimeSpan RedrawInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>Whether stdout is the process's own, interactive terminal (not redirected, not a test's writer).</summary>
    public static bool IsTerminal(CliContext context) =>
        ReferenceEquals(context.Stdout, Console.Out) && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    /// <summary>Shows the table until <paramref name="cancellationToken"/> fires (then throws <see cref="OperationCanceledException"/>).</summary>
    public static async Task RunAsync(IHeadlessService live, TimeProvider time, CancellationToken cancellationToken)
    {
        EndpointSet initial = await live.GetEndpointsAsync(cancellationToken).ConfigureAwait(false);
        await AnsiConsole.Live(Build(initial, live.GetHealthDetails(), time.GetUtcNow()))
            .AutoClear(false)
            .Overflow(VerticalOverflow.Ellipsis)
            .StartAsync(async context =>
            {
                IAsyncEnumerator<EndpointSetChange> changes = live.WatchAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
                Task<bool> change = changes.MoveNextAsync().AsTask();
                try
                {
                    while (true)
                    {
                        // Redraw on a change, or after the interval so the "since" column moves.
                        Task tick = Task.Delay(RedrawInterval, time, cancellationToken);
                        if (await Task.WhenAny(change, tick).ConfigureAwait(false) == change)
                        {
                            if (!await change.ConfigureAwait(false))
                            {
                                return;
                            }

                            change = changes.MoveNextAsync().AsTask();
                        }
                        else
                        {
                            await tick.ConfigureAwait(false);
                        }

                        context.UpdateTarget(Build(live.Current, live.GetHealthDetails(), time.GetUtcNow()));
                        context.Refresh();
                    }
                }
                finally
                {
                    // On cancellation the redraw tick can beat the pending wait for the next change, and an async
                    // iterator cannot be disposed while a MoveNextAsync is pending (NotSupportedException): let that
                    // wait end first, with the same cancellation. Its outcome was reported by the loop or is that
                    // cancellation, so it is only observed here. Left by an error, it is abandoned, observed.
                    Task observed = change.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                    if (change.IsCompleted || cancellationToken.IsCancellationRequested)
                    {
                        await observed.ConfigureAwait(false);
                        await changes.DisposeAsync().ConfigureAwait(false);
                    }
                }
            }).ConfigureAwait(false);
    }

    /// <summary>The table for one moment.</summary>
    internal static Table Build(EndpointSet set, ImmutableArray<EndpointStatus> details, DateTimeOffset now)
    {
        string state = set.IsStale ? $" [yellow]{Markup.Escape(TextOutput.Stale(set))}[/]"
            : set.Count == 0 ? $" [grey]({Markup.Escape(TextOutput.Empty(set))})[/]"
            : string.Empty;
        string panic = set.IsPanic ? " [red]PANIC: too few available, selecting among all[/]" : string.Empty;
        var table = new Table()
            .Border(TableBorder.Rounded)
            .Title(Markup.Escape($"{set.Service} v{set.Version}: {TextOutput.Pods(set.Count)}, {set.HealthyCount} healthy, {set.UnhealthyCount} unhealthy") + state + panic)
            .AddColumn("address")
            .AddColumn("hostname")
            .AddColumn("health")
            .AddColumn(new TableColumn("last latency").RightAligned())
            .AddColumn(new TableColumn("failures").RightAligned())
            .AddColumn(new TableColumn("since change").RightAligned())
            .AddColumn("last error");
        for (int i = 0; i < set.Count && i < MaxRows; i++)
        {
            EndpointStatus status = i < details.Length && details[i].Endpoint.Equals(set.Endpoints[i]) ? details[i] : set.Statuses[i];
            table.AddRow(
                new Text(set.Endpoints[i].Key),
                new Text(set.Endpoints[i].Hostname ?? "-"),
                HealthCell(status),
                new Text(ProbeCommand.Ms(status.LastLatency)),
                new Text(status.ConsecutiveFailures.ToString(CultureInfo.InvariantCulture)),
                new Text(status.LastTransitionAt is { } at ? DurationParser.Format(Truncate(now - at)) : "-"),
                new Text(status.LastError ?? string.Empty));
        }

        if (set.Count > MaxRows)
        {
            table.Caption(string.Create(CultureInfo.InvariantCulture, $"… and {set.Count - MaxRows} more pods"));
        }

        return table;
    }

    private static Markup HealthCell(EndpointStatus status)
    {
        if (status.IsEjected)
        {
            return new Markup("[red]ejected[/]");
        }

        return status.Health switch
        {
            EndpointHealth.Healthy => new Markup("[green]healthy[/]"),
            EndpointHealth.Unhealthy => new Markup("[red]unhealthy[/]"),
            _ => new Markup("[grey]unknown[/]"),
        };
    }

    private static TimeSpan Truncate(TimeSpan span) =>
        span <= TimeSpan.Zero ? TimeSpan.Zero : TimeSpan.FromSeconds(Math.Floor(span.TotalSeconds));
}
