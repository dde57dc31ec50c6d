using System.CommandLine;
using System.Globalization;

namespace Headless.Discovery.Cli;

/// <summary><c>headless-discovery probe &lt;name&gt; --probe tcp|http:&lt;path&gt;</c>: resolve once, probe every pod once.</summary>
internal static class ProbeCommand
{
    /// <summary>At most this many probes run at once.</summary>
    private const int MaxConcurrentProbes = 64;

    public static Command Create(CliContext context)
    {
        var options = new DnsCommandOptions();
        var health = new HealthCommandOptions(probeRequired: true);
        var command = new Command(
            "probe",
            "Resolve a headless Service once and probe every pod once (tcp: connect; http:<path>: GET, 200-399 is healthy). "
            + "Exit 0 when the name resolved, whatever the pods' health; 2: NXDOMAIN or no records; 3: DNS failed or timed out.");
        options.Json.Description = """Write one JSON object to stdout: {"service":"<fqdn>","endpoints":[{"address":"10.1.2.3","port":80,"healthy":true,"latencyMs":1.234,"error":null}]}, endpoints sorted by address then port; error is a string when healthy is false.""";
        options.AddTo(command);
        command.Options.Add(health.Probe);
        command.Options.Add(health.Timeout);
        command.SetAction((parseResult, cancellationToken) => RunAsync(context, options, health, parseResult, cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(CliContext context, DnsCommandOptions options, HealthCommandOptions health, ParseResult parseResult, CancellationToken cancellationToken)
    {
        ServiceName service = options.GetServiceName(parseResult, context.Services);
        HeadlessServiceOptions serviceOptions = options.GetServiceOptions(parseResult, service);
        health.Apply(parseResult, serviceOptions.ActiveHealth);
        OptionFlags.Validated(serviceOptions);
        bool json = parseResult.GetValue(options.Json);
        TimeSpan timeout = serviceOptions.ActiveHealth.Timeout;

        IEndpointResolver resolver = context.Services.CreateResolver(serviceOptions);
        ResolutionResult result;
        try
        {
            result = await resolver.ResolveAsync(service, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await ResolveCommand.DisposeAsync(resolver).ConfigureAwait(false);
        }

        if (result.Outcome != ResolutionOutcome.Success)
        {
            return await ResolveCommand.ReportFailureAsync(context, service, serviceOptions, result).ConfigureAwait(false);
        }

        IEndpointProbe probe = EndpointProbes.Create(serviceOptions.ActiveHealth.Probe, serviceOptions.ActiveHealth.Http);
        (PodEndpoint, ProbeResult)[] results;
        try
        {
            results = await ProbeAllAsync(probe, result.Endpoints, timeout, context.Services.TimeProvider, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            (probe as IDisposable)?.Dispose();
        }

        if (json)
        {
            await context.WriteLineAsync(JsonOutput.Probe(service, results)).ConfigureAwait(false);
        }
        else
        {
            foreach (string line in TextOutput.Probe(service, probe.ToString() ?? serviceOptions.ActiveHealth.Probe, results))
            {
                await context.WriteLineAsync(line).ConfigureAwait(false);
            }
        }

        return ExitCodes.Ok;
    }

    internal static async Task<(PodEndpoint, ProbeResult)[]> ProbeAllAsync(
        IEndpointProbe probe,
        IReadOnlyList<PodEndpoint> endpoints,
        TimeSpan timeout,
        TimeProvider timeProvider,
        CancellationToken cancellationToken)
    {
        var results = new (PodEndpoint, ProbeResult)[endpoints.Count];
        using var concurrency = new SemaphoreSlim(MaxConcurrentProbes);
        await Task.WhenAll(endpoints.Select(async (endpoint, i) =>
        {
            await concurrency.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                results[i] = (endpoint, await probe.ProbeAsync(endpoint, timeout, timeProvider, cancellationToken).ConfigureAwait(false));
            }
            finally
            {
                concurrency.Release();
            }
        })).ConfigureAwait(false);
        return results;
    }

    /// <summary>Milliseconds with one decimal, for text output.</summary>
    internal static string Ms(TimeSpan? latency) =>
        latency is { } l ? string.Create(CultureInfo.InvariantCulture, $"{l.TotalMilliseconds:0.0} ms") : "-";
}
