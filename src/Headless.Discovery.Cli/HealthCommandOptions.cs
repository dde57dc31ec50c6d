using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Headless.Discovery.Cli;

/// <summary>The active health check options <c>watch</c> and <c>probe</c> share.</summary>
internal sealed class HealthCommandOptions
{
    public HealthCommandOptions(bool probeRequired)
    {
        Probe = new Option<string?>("--probe")
        {
            Description = probeRequired
                ? "How to probe each pod: tcp (connect to the port) or http:<path> (GET the path; 200-399 is healthy; redirects are not followed), e.g. http:/healthz. https:<path> works too."
                : "Probe each pod and show its health: none, tcp (connect to the port) or http:<path> (GET the path; 200-399 is healthy), e.g. http:/healthz. Default: none.",
            HelpName = probeRequired ? "tcp|http:<path>" : "none|tcp|http:<path>",
            Required = probeRequired,
        };
        Probe.Validators.Add(r =>
        {
            string text = r.Tokens.Count > 0 ? r.Tokens[0].Value : string.Empty;
            string? error = ActiveHealthOptions.TryParseProbe(text, out string kind, out _);
            if (error is not null)
            {
                r.AddError($"--probe {error}");
            }
            else if (probeRequired && kind == "none")
            {
                r.AddError("--probe must be tcp or http:<path> here.");
            }
        });
    }

    public Option<string?> Probe { get; }

    public Option<TimeSpan?> Interval { get; } = DnsCommandOptions.DurationOption("--probe-interval", "Time between two probes of the same pod, e.g. 1s, 500ms. Default: 5s.");

    public Option<TimeSpan?> Timeout { get; } = DnsCommandOptions.DurationOption("--probe-timeout", "How long one probe may take before it counts as failed, e.g. 1s. Default: 2s.");

    public Option<int?> HealthyThreshold { get; } = new("--healthy-threshold")
    {
        Description = "Consecutive passed probes that turn an unhealthy pod healthy, 1 to 100 (a pod's first probe decides at once). Default: 2.",
        HelpName = "n",
        CustomParser = r => ParseThreshold(r),
    };

    public Option<int?> UnhealthyThreshold { get; } = new("--unhealthy-threshold")
    {
        Description = "Consecutive failed probes that turn a healthy pod unhealthy, 1 to 100. Default: 3.",
        HelpName = "n",
        CustomParser = r => ParseThreshold(r),
    };

    /// <summary>Adds every option (watch).</summary>
    public void AddTo(Command command)
    {
        command.Options.Add(Probe);
        command.Options.Add(Interval);
        command.Options.Add(Timeout);
        command.Options.Add(HealthyThreshold);
        command.Options.Add(UnhealthyThreshold);
    }

    /// <summary>Copies the options given into <paramref name="health"/>.</summary>
    public void Apply(ParseResult parseResult, ActiveHealthOptions health)
    {
        health.Probe = parseResult.GetValue(Probe) ?? "none";
        health.Interval = parseResult.GetValue(Interval) ?? health.Interval;
        health.Timeout = parseResult.GetValue(Timeout) ?? health.Timeout;
        health.HealthyThreshold = parseResult.GetValue(HealthyThreshold) ?? health.HealthyThreshold;
        health.UnhealthyThreshold = parseResult.GetValue(UnhealthyThreshold) ?? health.UnhealthyThreshold;
    }

    /// <summary>Turns an option-validation message into the CLI's option names.</summary>
    public static string ToCliNames(string message) => message
        .Replace("ActiveHealth.Probe", "--probe", StringComparison.Ordinal)
        .Replace("ActiveHealth.Interval", "--probe-interval", StringComparison.Ordinal)
        .Replace("ActiveHealth.Timeout", "--probe-timeout", StringComparison.Ordinal)
        .Replace("ActiveHealth.HealthyThreshold", "--healthy-threshold", StringComparison.Ordinal)
        .Replace("ActiveHealth.UnhealthyThreshold", "--unhealthy-threshold", StringComparison.Ordinal);

    private static int? ParseThreshold(ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value is < 1 or > 100)
        {
            string name = result.Parent is OptionResult option ? option.Option.Name : "value";
            result.AddError($"{name} '{text}' is not a whole number from 1 to 100.");
            return null;
        }

        return value;
    }
}
