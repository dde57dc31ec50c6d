using System.Collections.Immutable;
using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;

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
        await AnsiConsole.Live(Build(initial, live.GetHealthDetails(), time.GetUtcNow(), AnsiConsole.Profile.Width))
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

                        context.UpdateTarget(Build(live.Current, live.GetHealthDetails(), time.GetUtcNow(), AnsiConsole.Profile.Width));
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

    /// <summary>
    /// The table for one moment, for a terminal <paramref name="width"/> columns wide. Addresses never wrap (a wrapped
    /// <c>127.0.0.51:8080</c> reads as two pods): below <see cref="WideWidth"/> the pod column shows the hostname's
    /// first label (the service is in the title), the headers get short, latency and failures go below
    /// <see cref="NarrowWidth"/>, and the last error takes what is left, cut with an ellipsis.
    /// </summary>
    internal static Table Build(EndpointSet set, ImmutableArray<EndpointStatus> details, DateTimeOffset now, int width = 200)
    {
        string state = set.StaleSince is not null ? $" [yellow]{Markup.Escape(TextOutput.Stale(set))}[/]"
            : set.Endpoints.Length == 0 ? $" [grey]({Markup.Escape(TextOutput.Empty(set))})[/]"
            : string.Empty;
        string panic = set.IsPanic ? " [red]PANIC: too few available, selecting among all[/]" : string.Empty;
        bool wide = width >= WideWidth, latency = width >= NarrowWidth;
        var table = new Table()
            .Border(TableBorder.Rounded)
            .Title(Markup.Escape($"{set.Service} v{set.Version}: {TextOutput.Pods(set.Endpoints.Length)}, {set.HealthyCount} healthy, {set.UnhealthyCount} unhealthy") + state + panic);
        var rows = new List<Cell[]>();
        for (int i = 0; i < set.Endpoints.Length && i < MaxRows; i++)
        {
            EndpointStatus status = i < details.Length && details[i].Endpoint.Equals(set.Endpoints[i]) ? details[i] : set.Statuses[i];
            PodEndpoint pod = set.Endpoints[i];
            rows.Add(
            [
                new(pod.Key, null),
                new(wide ? pod.Hostname ?? "-" : pod.Hostname?.Split('.')[0] ?? "-", null),
                new(string.Empty, HealthCell(status)),
                new(ProbeCommand.Ms(status.LastLatency), null),
                new(status.ConsecutiveFailures.ToString(CultureInfo.InvariantCulture), null),
                new(status.LastTransitionAt is { } at ? DurationParser.Format(Truncate(now - at)) : "-", null),
                new(status.LastError ?? string.Empty, null),
            ]);
        }

        string[] headers = wide
            ? ["address", "hostname", "health", "last latency", "failures", "since change", "last error"]
            : ["address", "pod", "health", "latency", "fails", "since", "last error"];
        int[] shown = latency ? [0, 1, 2, 3, 4, 5, 6] : [0, 1, 2, 5, 6];
        int[] widths = [.. shown.Select(c => Math.Max(headers[c].Length, rows.Count == 0 ? 0 : rows.Max(r => c == 2 ? "unhealthy".Length : r[c].Text.Length)))];

        // The last error takes what the others leave: each column costs its width + 3 (padding and border), plus one.
        widths[^1] = wide ? widths[^1] : Math.Max(headers[6].Length, width - 1 - widths[..^1].Sum() - (3 * widths.Length));
        for (int k = 0; k < shown.Length; k++)
        {
            var column = new TableColumn(headers[shown[k]]).NoWrap();
            column = shown[k] is 3 or 4 or 5 ? column.RightAligned() : column;
            table.AddColumn(wide && shown[k] == 6 ? column : column.Width(widths[k]));
        }

        foreach (Cell[] row in rows)
        {
            // Cut to the column here: the renderer would wrap a long error over several lines whatever the column says.
            table.AddRow([.. shown.Select((c, k) => row[c].Markup ?? (IRenderable)new Text(Fit(row[c].Text, wide && c == 6 ? int.MaxValue : widths[k])))]);
        }

        if (set.Endpoints.Length > MaxRows)
        {
            table.Caption(string.Create(CultureInfo.InvariantCulture, $"… and {set.Endpoints.Length - MaxRows} more pods"));
        }

        return table;
    }

    /// <summary>Below this many columns the table drops to short headers and the hostname's first label.</summary>
    internal const int WideWidth = 110;

    /// <summary>Below this many columns the latency and failure counts go too.</summary>
    internal const int NarrowWidth = 76;

    private readonly record struct Cell(string Text, Markup? Markup);

    /// <summary><paramref name="text"/> on one line of at most <paramref name="width"/> characters, cut with an ellipsis.</summary>
    private static string Fit(string text, int width)
    {
        string line = text.ReplaceLineEndings(" ");
        return line.Length <= width ? line : line[..Math.Max(0, width - 1)] + "…";
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
