using System.CommandLine;

namespace Headless.Discovery.Cli;

/// <summary><c>headless-discovery resolve &lt;name&gt;</c>: one DNS round, printed once.</summary>
internal static class ResolveCommand
{
    public static Command Create(CliContext context)
    {
        var options = new DnsCommandOptions();
        var command = new Command("resolve", "Resolve a headless Service once and print its endpoints. Exit 0: found; 2: NXDOMAIN or no records; 3: DNS failed or timed out.");
        options.Json.Description = """Write one JSON object to stdout: {"service":"<fqdn>","ttl":<seconds>,"endpoints":[{"address":"10.1.2.3","port":80,"hostname":null}]}, endpoints sorted by address then port.""";
        options.AddTo(command);
        command.SetAction((parseResult, cancellationToken) => RunAsync(context, options, parseResult, cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(CliContext context, DnsCommandOptions options, ParseResult parseResult, CancellationToken cancellationToken)
    {
        ServiceName service = options.GetServiceName(parseResult, context.Services);
        HeadlessServiceOptions serviceOptions = OptionFlags.Validated(options.GetServiceOptions(parseResult, service));
        bool json = parseResult.GetValue(options.Json);

        IEndpointResolver resolver = context.Services.CreateResolver(serviceOptions);
        ResolutionResult result;
        try
        {
            result = await resolver.ResolveAsync(service, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await DisposeAsync(resolver).ConfigureAwait(false);
        }

        if (result.Outcome != ResolutionOutcome.Success)
        {
            return await ReportFailureAsync(context, service, serviceOptions, result).ConfigureAwait(false);
        }

        if (json)
        {
            await context.WriteLineAsync(JsonOutput.Resolve(service, result.Ttl, result.Endpoints)).ConfigureAwait(false);
        }
        else
        {
            foreach (string line in TextOutput.Resolve(service, result))
            {
                await context.WriteLineAsync(line).ConfigureAwait(false);
            }
        }

        return ExitCodes.Ok;
    }

    /// <summary>
    /// Reports a resolution that did not succeed on stderr and returns its exit code (2 NXDOMAIN/NODATA, 3 DNS failure).
    /// The library's error is printed as it is: it knows which query failed and why (an SRV name whose targets have no
    /// address of the family is NODATA too). Our own words only stand in for a resolver that gave no error.
    /// </summary>
    internal static async Task<int> ReportFailureAsync(CliContext context, ServiceName service, HeadlessServiceOptions options, ResolutionResult result)
    {
        string? why = result.Error?.Message;
        switch (result.Outcome)
        {
            case ResolutionOutcome.NotFound:
                await context.ErrorLineAsync(
                    $"{service}: {why ?? "not found (NXDOMAIN): the service does not exist or has no ready pods."}").ConfigureAwait(false);
                return ExitCodes.NotFound;

            case ResolutionOutcome.NoData:
                await context.ErrorLineAsync(
                    $"{service}: {why ?? $"no {TextOutput.RecordTypes(options)} records (NODATA): the name exists but has no pods of that kind."}").ConfigureAwait(false);
                return ExitCodes.NotFound;

            default:
                await context.ErrorLineAsync(
                    $"{service}: DNS lookup failed: {why ?? "unknown error"}").ConfigureAwait(false);
                return ExitCodes.DnsFailure;
        }
    }

    internal static async ValueTask DisposeAsync(object instance)
    {
        if (instance is IAsyncDisposable asyncDisposable)
        {
            await asyncDisposable.DisposeAsync().ConfigureAwait(false);
        }
        else if (instance is IDisposable disposable)
        {
            disposable.Dispose();
        }
    }
}
