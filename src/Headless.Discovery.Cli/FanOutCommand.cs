using System.Buffers;
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Headless.Discovery.Cli;

/// <summary><c>headless-discovery fanout &lt;name&gt; --http &lt;path&gt;</c>: one HTTP GET to every pod, one result per pod.</summary>
internal static class FanOutCommand
{

    public static Command Create(CliContext context)
    {
        var dns = new DnsCommandOptions();
        Option<string> http = HttpPathOption();
        Option<FanOutMode?> mode = ModeOption();
        var timeout = DnsCommandOptions.DurationOption(OptionFlags.PerPodTimeout, "How long each pod may take to answer, e.g. 500ms, 2s. Default: 5s.");
        Option<int?> parallelism = ParallelismOption();

        var command = new Command(
            "fanout",
            "Send an HTTP GET to every pod of a headless Service and report each pod's outcome. "
            + "Exit 0: the mode's goal was met; 5: it was not; 2: NXDOMAIN or no records; 3: DNS failed or timed out.");
        dns.Json.Description = """Write one JSON object to stdout: {"service":"<fqdn>","mode":"all|quorum:<k>|first","succeeded":<n>,"failed":<n>,"results":[{"address":"…","port":<n>,"status":"ok|failed|timeout|skipped|cancelled","httpStatus":<n|null>,"latencyMs":<number>,"error":null|"…"}]}, results sorted by address then port.""";
        command.Arguments.Add(dns.Name);
        command.Options.Add(dns.DnsServers);
        command.Options.Add(dns.Port);
        command.Options.Add(dns.AddressFamily);
        command.Options.Add(dns.UseSrv);
        command.Options.Add(dns.DnsAttemptTimeout);
        command.Options.Add(dns.DnsRetryCount);
        command.Options.Add(http);
        command.Options.Add(mode);
        command.Options.Add(timeout);
        command.Options.Add(parallelism);
        command.Options.Add(dns.Json);
        command.SetAction((parseResult, cancellationToken) => RunAsync(
            context,
            dns,
            new Settings(
                parseResult.GetRequiredValue(http),
                parseResult.GetValue(mode) ?? FanOutMode.All,
                parseResult.GetValue(timeout) ?? TimeSpan.FromSeconds(5),
                parseResult.GetValue(parallelism) ?? new FanOutOptions().MaxParallelism,
                parseResult.GetValue(dns.Json)),
            parseResult,
            cancellationToken));
        return command;
    }

    private static Option<string> HttpPathOption()
    {
        var option = new Option<string>("--http")
        {
            Description = "The path to GET on every pod, e.g. /healthz (sent to http://<pod ip>:<port><path>).",
            HelpName = "path",
            Required = true,
        };
        option.Validators.Add(r =>
        {
            string path = r.Tokens.Count > 0 ? r.Tokens[0].Value : string.Empty;
            if (!path.StartsWith('/') || path.StartsWith("//", StringComparison.Ordinal) || path.Any(char.IsWhiteSpace))
            {
                r.AddError($"--http '{path}' is not a path: expected e.g. /healthz.");
            }
        });
        return option;
    }

    private static Option<FanOutMode?> ModeOption()
    {
        var option = new Option<FanOutMode?>("--mode")
        {
            Description = "all: every pod must answer 2xx; quorum:<k>: done once k pods answer 2xx (the rest are cancelled); first: hedged, done on the first 2xx. Default: all.",
            HelpName = "all|quorum:<k>|first",
            CustomParser = r =>
            {
                string text = r.Tokens.Count > 0 ? r.Tokens[0].Value : string.Empty;
                if (FanOutMode.TryParse(text, out FanOutMode? parsed))
                {
                    return parsed;
                }

                r.AddError($"--mode '{text}' is not one of all, quorum:<k> (k >= 1), first.");
                return null;
            },
        };
        return option;
    }

    private static Option<int?> ParallelismOption()
    {
        var option = new Option<int?>(OptionFlags.MaxParallelism)
        {
            Description = "The most requests in flight at once, 1 to 1024. Default: 32.",
            HelpName = "n",
            CustomParser = r =>
            {
                string text = r.Tokens.Count > 0 ? r.Tokens[0].Value : string.Empty;
                if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n is >= 1 and <= 1024)
                {
                    return n;
                }

                r.AddError($"{OptionFlags.MaxParallelism} '{text}' is not a whole number from 1 to 1024.");
                return null;
            },
        };
        return option;
    }

    private sealed record Settings(string Path, FanOutMode Mode, TimeSpan Timeout, int Parallelism, bool Json);

    private static async Task<int> RunAsync(CliContext context, DnsCommandOptions dns, Settings settings, ParseResult parseResult, CancellationToken cancellationToken)
    {
        ServiceName service = dns.GetServiceName(parseResult, context.Services);
        HeadlessServiceOptions serviceOptions = OptionFlags.Validated(dns.GetServiceOptions(parseResult, service));
        // One DNS round, judged exactly like `resolve`; the fan-out then runs over that answer.
        IEndpointResolver resolver = context.Services.CreateResolver(serviceOptions);
        ResolutionResult resolution;
        try
        {
            resolution = await resolver.ResolveAsync(service, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await ResolveCommand.DisposeAsync(resolver).ConfigureAwait(false);
        }

        if (resolution.Outcome != ResolutionOutcome.Success)
        {
            return await ResolveCommand.ReportFailureAsync(context, service, serviceOptions, resolution).ConfigureAwait(false);
        }

        if (resolution.Endpoints.Any(e => e.Port == 0))
        {
            throw new UsageException($"{service}: the answer carries no port; give one with --port (or use --use-srv).");
        }

        IHeadlessService live = context.Services.CreateService(service, new AnsweredResolver(resolution), serviceOptions);
        await using (live.ConfigureAwait(false))
        {
            await live.GetEndpointsAsync(cancellationToken).ConfigureAwait(false);
            FanOutResult<int> result = await FanOutAsync(live, settings, cancellationToken).ConfigureAwait(false);
            if (settings.Json)
            {
                await context.WriteLineAsync(FanOutJson.Write(service, result)).ConfigureAwait(false);
            }
            else
            {
                foreach (string line in Text(service, result))
                {
                    await context.WriteLineAsync(line).ConfigureAwait(false);
                }
            }

            return result.GoalMet ? ExitCodes.Ok : ExitCodes.GoalNotMet;
        }
    }

    /// <summary>One HTTP GET per pod of the answered service, under the mode, parallelism and per-pod timeout given.</summary>
    private static async Task<FanOutResult<int>> FanOutAsync(IHeadlessService live, Settings settings, CancellationToken cancellationToken)
    {
        using var client = new HttpClient(new SocketsHttpHandler
        {
            // One request per pod: no pooling, no proxy, no redirects (a redirect would leave the pod).
            PooledConnectionLifetime = TimeSpan.Zero,
            UseProxy = false,
            AllowAutoRedirect = false,
            ConnectTimeout = settings.Timeout,
        })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };

        var options = new FanOutOptions
        {
            Mode = settings.Mode,
            MaxParallelism = settings.Parallelism,
            PerPodTimeout = settings.Timeout,

            // A single probe run: every pod the DNS answer lists, whatever an outcome before ours said.
            IncludeUnhealthy = true,
        };
        try
        {
            return await live.FanOutAsync(
                (endpoint, ct) => FanOutJson.GetAsync(client, endpoint, settings.Path, ct),
                options,
                cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidOptionsException ex)
        {
            throw OptionFlags.ToUsage(ex);
        }
    }

    private static IEnumerable<string> Text(ServiceName service, FanOutResult<int> result)
    {
        string? notCalled = FanOutJson.NotCalledReason(result);
        yield return string.Create(
            CultureInfo.InvariantCulture,
            $"{service}: {result.Mode}: {result.Succeeded} ok, {result.Failed} failed of {result.Results.Length} pod(s); goal {(result.GoalMet ? "met" : "NOT met")}{(notCalled is { } why ? ": " + why : string.Empty)}");
        foreach (FanOutPodResult<int> pod in result.Results)
        {
            string code = FanOutJson.HttpStatusOf(pod) is { } c ? c.ToString(CultureInfo.InvariantCulture) : "-";
            string error = FanOutJson.ErrorOf(notCalled, pod) is { } e ? "  " + e : string.Empty;
            yield return string.Create(
                CultureInfo.InvariantCulture,
                $"  {pod.Endpoint.Key,-22} {FanOutJson.StatusText(pod.Status),-9} {code,3} {pod.Latency.TotalMilliseconds,9:0.0} ms{error}");
        }
    }

    /// <summary>Hands the live service the answer already received, so one DNS round serves both the exit code and the fan-out.</summary>
    private sealed class AnsweredResolver(ResolutionResult answer) : IEndpointResolver
    {
        public ValueTask<ResolutionResult> ResolveAsync(ServiceName service, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(answer);
    }
}
