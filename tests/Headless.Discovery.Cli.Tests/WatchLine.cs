using System.Text.Json;

namespace Headless.Discovery.Cli.Tests;

/// <summary>One parsed <c>watch --json</c> line; parsing also checks every documented property is there with its type.</summary>
internal sealed record WatchLine(DateTimeOffset Time, string Service, long Version, bool Stale, string[] Endpoints, string[] Added, string[] Removed)
{
    /// <summary>Each endpoint's <c>healthy</c> (null: not probed), aligned with <see cref="Endpoints"/>.</summary>
    public bool?[] Healthy { get; init; } = [];

    /// <summary>The <c>healthy</c> value of the endpoint <paramref name="key"/> (ip:port); throws when it is not listed.</summary>
    public bool? HealthOf(string key) => Healthy[Array.IndexOf(Endpoints, key) is >= 0 and int i ? i : throw new KeyNotFoundException(key)];

    /// <summary>The health transitions of the line (<c>events</c>): endpoint key, kind, reason.</summary>
    public (string Endpoint, string Kind, string? Reason)[] Events { get; init; } = [];

    public static readonly string[] PropertyOrder = ["time", "service", "version", "stale", "endpoints", "added", "removed", "events"];

    public static bool TryParse(string line, out WatchLine? parsed)
    {
        parsed = null;
        if (!line.StartsWith('{'))
        {
            return false;
        }

        using JsonDocument doc = JsonDocument.Parse(line);
        JsonElement root = doc.RootElement;
        Assert.Equal(PropertyOrder, root.EnumerateObject().Select(p => p.Name));
        var endpoints = new List<string>();
        var healthy = new List<bool?>();
        foreach (JsonElement e in root.GetProperty("endpoints").EnumerateArray())
        {
            Assert.Equal(["address", "port", "hostname", "healthy"], e.EnumerateObject().Select(p => p.Name));
            JsonElement health = e.GetProperty("healthy");
            Assert.Contains(health.ValueKind, new[] { JsonValueKind.Null, JsonValueKind.True, JsonValueKind.False });
            healthy.Add(health.ValueKind == JsonValueKind.Null ? null : health.GetBoolean());
            Assert.Equal(JsonValueKind.Number, e.GetProperty("port").ValueKind);
            endpoints.Add($"{e.GetProperty("address").GetString()}:{e.GetProperty("port").GetInt32()}");
        }

        parsed = new WatchLine(
            root.GetProperty("time").GetDateTimeOffset(),
            root.GetProperty("service").GetString()!,
            root.GetProperty("version").GetInt64(),
            root.GetProperty("stale").GetBoolean(),
            [.. endpoints],
            [.. root.GetProperty("added").EnumerateArray().Select(x => x.GetString()!)],
            [.. root.GetProperty("removed").EnumerateArray().Select(x => x.GetString()!)])
        {
            Healthy = [.. healthy],
            Events =
            [
                .. root.GetProperty("events").EnumerateArray().Select(e =>
                {
                    Assert.Equal(["endpoint", "kind", "reason"], e.EnumerateObject().Select(p => p.Name));
                    Assert.Contains(e.GetProperty("kind").GetString(), new[] { "healthy", "unhealthy", "ejected", "returned" });
                    return (e.GetProperty("endpoint").GetString()!, e.GetProperty("kind").GetString()!, e.GetProperty("reason").GetString());
                }),
            ],
        };
        return true;
    }

    public static WatchLine Parse(string line) =>
        TryParse(line, out WatchLine? parsed) ? parsed! : throw new FormatException($"Not a watch line: {line}");

    /// <summary>Awaits the next JSON line (after <paramref name="fromIndex"/>) that matches <paramref name="predicate"/>.</summary>
    public static async Task<(int Index, WatchLine Line)> WaitAsync(LineWriter stdout, Func<WatchLine, bool> predicate, int fromIndex = 0, TimeSpan? timeout = null, string? what = null)
    {
        (int index, string line) = await stdout.WaitForLineAsync(
            l => TryParse(l, out WatchLine? w) && predicate(w!),
            fromIndex,
            timeout,
            what);
        return (index, Parse(line));
    }
}

/// <summary>A <c>watch</c> (or <c>demo</c>) running in the background of a test, stopped on dispose.</summary>
internal sealed class BackgroundRun : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();

    public BackgroundRun(CliServices services, params string[] args)
    {
        Run = Task.Run(() => CliApp.RunAsync(args, Stdout, Stderr, services, _stop.Token));
    }

    public LineWriter Stdout { get; } = new();

    public LineWriter Stderr { get; } = new();

    public Task<int> Run { get; }

    /// <summary>Cancels the run (as Ctrl+C would) and returns its exit code.</summary>
    public async Task<int> StopAsync()
    {
        await _stop.CancelAsync();
        return await Run.WaitAsync(LineWriter.DefaultTimeout);
    }

    public async ValueTask DisposeAsync()
    {
        if (!Run.IsCompleted)
        {
            await _stop.CancelAsync();
            try
            {
                await Run.WaitAsync(LineWriter.DefaultTimeout);
            }
            catch (TimeoutException)
            {
                // Reported by the test that left it running.
            }
        }

        _stop.Dispose();
    }
}
