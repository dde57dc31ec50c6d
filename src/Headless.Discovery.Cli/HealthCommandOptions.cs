using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Headless.Discovery.Cli;

/// <summary>The active health check options <c>watch</c> and <c>probe</c> share.</summary>
internal sealed class HealthCommandOptions
{
    private readonly bool _probeRequired;

    public HealthCommandOptions(bool probeRequired)
    {
        Probe = new Option<string?>(OptionFlags.Probe)
        {
            Description = probeRequired
                ? "How to probe each pod: tcp (connect to the port) or http:<path> (GET the path; 200-399 is healthy; redirects are not followed), e.g. http:/healthz. https:<path> works too."
                : "Probe each pod and show its health: none, tcp (connect to the port) or http:<path> (GET the path; 200-399 is healthy), e.g. http:/healthz. Default: none.",
            HelpName = probeRequired ? "tcp|http:<path>" : "none|tcp|http:<path>",
            Required = probeRequired,
        };
        _probeRequired = probeRequired;
    }

    public Option<string?> Probe { get; }

    public Option<TimeSpan?> Interval { get; } = DnsCommandOptions.DurationOption(OptionFlags.ProbeInterval, "Time between two probes of the same pod, e.g. 1s, 500ms. Default: 5s.");

    public Option<TimeSpan?> Timeout { get; } = DnsCommandOptions.DurationOption(OptionFlags.ProbeTimeout, "How long one probe may take before it counts as failed, e.g. 1s. Default: 2s.");

    public Option<int?> HealthyThreshold { get; } = new(OptionFlags.HealthyThreshold)
    {
        Description = "Consecutive passed probes that turn an unhealthy pod healthy, 1 to 100 (a pod's first probe decides at once). Default: 2.",
        HelpName = "n",
        CustomParser = r => ParseThreshold(r),
    };

    public Option<int?> UnhealthyThreshold { get; } = new(OptionFlags.UnhealthyThreshold)
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

    /// <summary>
    /// Copies the options given into <paramref name="health"/> (validated later with the rest, by the library). The
    /// <c>probe</c> command also needs a probe that actually probes: <c>none</c> is a usage error there.
    /// </summary>
    public void Apply(ParseResult parseResult, ActiveHealthOptions health)
    {
        health.Probe = parseResult.GetValue(Probe) ?? "none";
        if (_probeRequired && string.Equals(health.Probe.Trim(), "none", StringComparison.OrdinalIgnoreCase))
        {
            throw new UsageException($"{OptionFlags.Probe} none probes nothing: the probe command needs tcp, http:<path> or https:<path> (e.g. {OptionFlags.Probe} http:/healthz).");
        }

        health.Interval = parseResult.GetValue(Interval) ?? health.Interval;
        health.Timeout = parseResult.GetValue(Timeout) ?? health.Timeout;
        health.HealthyThreshold = parseResult.GetValue(HealthyThreshold) ?? health.HealthyThreshold;
        health.UnhealthyThreshold = parseResult.GetValue(UnhealthyThreshold) ?? health.UnhealthyThreshold;
    }

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
