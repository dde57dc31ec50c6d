using System.CommandLine;

namespace Headless.Discovery.Cli;

/// <summary><c>headless-discovery watch &lt;name&gt;</c>: follow a headless Service and print every change.</summary>
internal static class WatchCommand
{
    public static Command Create(CliContext context)
    {
        var options = new DnsCommandOptions();
        var minRefresh = DnsCommandOptions.DurationOption(OptionFlags.MinRefreshInterval, "Shortest time between two refreshes, whatever the TTL says, e.g. 500ms, 1s. Default: 1s.");
        var maxRefresh = DnsCommandOptions.DurationOption(OptionFlags.MaxRefreshInterval, "Longest time between two refreshes, whatever the TTL says, e.g. 5s, 1m. Default: 30s.");
        var duration = DnsCommandOptions.DurationOption("--duration", "Stop after this long and exit 0, e.g. 30s, 5m. Default: run until Ctrl+C or SIGTERM.");

        var health = new HealthCommandOptions(probeRequired: false);
        var command = new Command(
            "watch",
            "Follow a headless Service: print its endpoints, then every change (pods added or removed, DNS failing or recovering, "
            + "with --probe pods turning healthy or unhealthy). With --json, one JSON object per line; on a terminal without --json, "
            + "a live table. Ends with exit 0 after --duration, on Ctrl+C or on SIGTERM.");
        options.Json.Description = """Write JSON Lines to stdout, one at start and one per change (membership, staleness, or a pod's health): {"time":"<ISO-8601>","service":"<fqdn>","version":<n>,"stale":<bool>,"endpoints":[{"address":"…","port":<n>,"hostname":null,"healthy":null}],"added":["ip:port"],"removed":["ip:port"]}; healthy is true/false once the pod was probed (--probe), else null.""";
        options.AddTo(command);
        health.AddTo(command);
        command.Options.Add(minRefresh);
        command.Options.Add(maxRefresh);
        command.Options.Add(duration);
        command.SetAction((parseResult, cancellationToken) => RunAsync(
            context,
            options,
            parseResult.GetValue(minRefresh),
            parseResult.GetValue(maxRefresh),
            parseResult.GetValue(duration),
            health,
            parseResult,
            cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(
        CliContext context,
        DnsCommandOptions options,
        TimeSpan? minRefresh,
        TimeSpan? maxRefresh,
        TimeSpan? duration,
        HealthCommandOptions health,
        ParseResult parseResult,
        CancellationToken cancellationToken)
    {
        ServiceName service = options.GetServiceName(parseResult, context.Services);
        bool json = parseResult.GetValue(options.Json);
        HeadlessServiceOptions serviceOptions = WithRefresh(options.GetServiceOptions(parseResult, service), minRefresh, maxRefresh);
        health.Apply(parseResult, serviceOptions.ActiveHealth);
        OptionFlags.Validated(serviceOptions);

        using CancellationTokenSource? durationCts = duration is { } d ? new CancellationTokenSource(d, context.Services.TimeProvider) : null;
        using CancellationTokenSource linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, durationCts?.Token ?? CancellationToken.None);

        IEndpointResolver resolver = context.Services.CreateResolver(serviceOptions);
        try
        {
            IHeadlessService live = context.Services.CreateService(service, resolver, serviceOptions);
            await using (live.ConfigureAwait(false))
            {
                if (!json && LiveTable.IsTerminal(context))
                {
                    await LiveTable.RunAsync(live, context.Services.TimeProvider, linked.Token).ConfigureAwait(false);
                }
                else
                {
                    await WatchAsync(context, live, json, includeService: true, linked.Token).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (linked.IsCancellationRequested)
        {
            // --duration elapsed, or Ctrl+C / SIGTERM: a normal end.
        }
        finally
        {
            await ResolveCommand.DisposeAsync(resolver).ConfigureAwait(false);
        }

        return ExitCodes.Ok;
    }

    /// <summary>Prints every change of <paramref name="live"/> until <paramref name="cancellationToken"/> fires (then throws <see cref="OperationCanceledException"/>).</summary>
    internal static async Task WatchAsync(CliContext context, IHeadlessService live, bool json, bool includeService, CancellationToken cancellationToken, Action<EndpointSetChange>? observed = null)
    {
        await foreach (EndpointSetChange change in live.WatchAsync(cancellationToken).ConfigureAwait(false))
        {
            await WriteChangeAsync(context, change, json, includeService).ConfigureAwait(false);
            observed?.Invoke(change);
        }
    }

    internal static async ValueTask WriteChangeAsync(CliContext context, EndpointSetChange change, bool json, bool includeService)
    {
        if (json)
        {
            await context.WriteLineAsync(JsonOutput.WatchLine(context.Services.TimeProvider.GetUtcNow(), change)).ConfigureAwait(false);
            return;
        }

        foreach (string line in TextOutput.Change(context.Services.TimeProvider.GetLocalNow(), change, includeService))
        {
            await context.WriteLineAsync(line).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Sets the refresh bounds given (<c>null</c>: not given) on <paramref name="serviceOptions"/> and keeps the
    /// defaults of the others out of their way; not validated here.
    /// </summary>
    internal static HeadlessServiceOptions WithRefresh(HeadlessServiceOptions serviceOptions, TimeSpan? minRefresh, TimeSpan? maxRefresh)
    {
        // Only one bound given: move the other default out of its way rather than reject the pair.
        if (minRefresh is { } min)
        {
            serviceOptions.MinRefreshInterval = min;
            if (maxRefresh is null && serviceOptions.MaxRefreshInterval < min)
            {
                serviceOptions.MaxRefreshInterval = min;
            }
        }

        if (maxRefresh is { } max)
        {
            serviceOptions.MaxRefreshInterval = max;
            if (minRefresh is null && serviceOptions.MinRefreshInterval > max)
            {
                serviceOptions.MinRefreshInterval = max;
            }
        }

        // A failing DNS is retried no slower than the refresh bound the user asked for.
        if (serviceOptions.FailureBackoffMax > serviceOptions.MaxRefreshInterval)
        {
            serviceOptions.FailureBackoffMax = serviceOptions.MaxRefreshInterval;
        }

        if (serviceOptions.FailureBackoffBase > serviceOptions.FailureBackoffMax)
        {
            serviceOptions.FailureBackoffBase = serviceOptions.FailureBackoffMax;
        }

        return serviceOptions;
    }
}
