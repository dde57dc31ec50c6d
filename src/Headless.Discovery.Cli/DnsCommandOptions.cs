using System.CommandLine;
using System.CommandLine.Parsing;

namespace Headless.Discovery.Cli;

/// <summary>The argument and options <c>resolve</c> and <c>watch</c> share: what to ask and whom.</summary>
internal sealed class DnsCommandOptions
{
    public Argument<string> Name { get; } = new("name")
    {
        Description = "The headless Service: short ('headless-nginx', qualified with the pod's namespace and cluster domain), "
            + "namespaced ('headless-nginx.default') or fully qualified ('headless-nginx.default.svc.cluster.local' or with a trailing dot). "
            + "With --use-srv, the SRV name ('_http._tcp.headless-nginx').",
    };

    public Option<string[]> DnsServers { get; } = new(OptionFlags.DnsServer)
    {
        Description = "Name server to ask, 'ip', 'ip:port' or '[ipv6]:port' (port 53 when omitted). Repeatable. Default: the system's (/etc/resolv.conf).",
        HelpName = "ip[:port]",
        Arity = ArgumentArity.OneOrMore,
        AllowMultipleArgumentsPerToken = false,
    };

    public Option<int> Port { get; } = new(OptionFlags.Port)
    {
        Description = "The port given to endpoints from A/AAAA answers (SRV answers carry their own). Default: 0.",
        HelpName = "n",
        CustomParser = r => ParseInt(r, 0, 65535) ?? 0,
    };

    public Option<DnsAddressFamily?> AddressFamily { get; } = new(OptionFlags.AddressFamily)
    {
        Description = "Which address records to query: ipv4 (A), ipv6 (AAAA), both, or ipv4-preferred / ipv6-preferred (one family, the other only when the name has none of the first). Default: ipv4.",
        HelpName = "ipv4|ipv6|both|ipv4-preferred|ipv6-preferred",
        CustomParser = ParseFamily,
    };

    public Option<bool> UseSrv { get; } = new(OptionFlags.UseSrv)
    {
        Description = "Query SRV records (port and hostname per pod) instead of A/AAAA.",
    };

    public Option<TimeSpan?> DnsAttemptTimeout { get; } = DurationOption(OptionFlags.DnsAttemptTimeout, "Timeout of one DNS attempt, 10ms to 5m, e.g. 500ms, 2s. Default: 2s.");

    public Option<int?> DnsRetryCount { get; } = new(OptionFlags.DnsRetryCount)
    {
        Description = "Retries after a timed-out or failed DNS attempt (never after NXDOMAIN/NODATA), 0 to 10. Default: 2.",
        HelpName = "n",
        CustomParser = r => ParseInt(r, 0, 10),
    };

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Write JSON to stdout.",
    };

    public void AddTo(Command command)
    {
        command.Arguments.Add(Name);
        command.Options.Add(DnsServers);
        command.Options.Add(Port);
        command.Options.Add(AddressFamily);
        command.Options.Add(UseSrv);
        command.Options.Add(DnsAttemptTimeout);
        command.Options.Add(DnsRetryCount);
        command.Options.Add(Json);
    }

    /// <summary>Qualifies the name argument; an invalid name is a usage error.</summary>
    public ServiceName GetServiceName(ParseResult parseResult, CliServices services)
    {
        string name = parseResult.GetValue(Name) ?? string.Empty;
        try
        {
            return services.Qualify(name);
        }
        catch (ArgumentException ex)
        {
            throw new UsageException(ex.Message, ex);
        }
        catch (InvalidOperationException ex)
        {
            // A short name outside a cluster: no namespace to qualify it with.
            throw new UsageException($"{ex.Message} Give the name with its namespace ('{name}.<namespace>') or fully qualified.", ex);
        }
    }

    /// <summary>
    /// The service options the DNS flags give (<paramref name="service"/> already qualified), not yet validated: the
    /// command adds its own, then validates them all at once with <see cref="OptionFlags.Validated"/>.
    /// </summary>
    public HeadlessServiceOptions GetServiceOptions(ParseResult parseResult, ServiceName service)
    {
        var options = new HeadlessServiceOptions
        {
            // Already qualified: the trailing dot keeps it from being qualified again.
            Name = service.Value + ".",
            UseSrv = parseResult.GetValue(UseSrv),
            Port = parseResult.GetValue(Port),
        };
        options.AddressFamily = parseResult.GetValue(AddressFamily) ?? options.AddressFamily;
        options.DnsAttemptTimeout = parseResult.GetValue(DnsAttemptTimeout) ?? options.DnsAttemptTimeout;
        options.DnsRetryCount = parseResult.GetValue(DnsRetryCount) ?? options.DnsRetryCount;
        foreach (string server in parseResult.GetValue(DnsServers) ?? [])
        {
            options.DnsServers.Add(server);
        }

        return options;
    }

    /// <summary>A duration option (<c>500ms</c>, <c>5s</c>, <c>1m</c>) parsed by <see cref="ParseDuration"/>.</summary>
    internal static Option<TimeSpan?> DurationOption(string name, string description, bool allowZero = false) => new(name)
    {
        Description = description,
        HelpName = "dur",
        CustomParser = r => ParseDuration(r, allowZero),
    };

    internal static TimeSpan? ParseDuration(ArgumentResult result, bool allowZero)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
        if (text.TrimStart().StartsWith('-') && DurationParser.TryParse(text.TrimStart()[1..], out _))
        {
            result.AddError($"{OptionName(result)} must be {(allowZero ? "zero or more" : "greater than zero")} ('{text}' is negative).");
            return default;
        }

        if (!DurationParser.TryParse(text, out TimeSpan value))
        {
            result.AddError($"{OptionName(result)} '{text}' is not a duration: {DurationParser.Expected}.");
            return default;
        }

        if (!allowZero && value <= TimeSpan.Zero)
        {
            result.AddError($"{OptionName(result)} must be greater than zero.");
            return default;
        }

        return value;
    }

    private static int? ParseInt(ArgumentResult result, int min, int max)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
        if (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int value)
            || value < min || value > max)
        {
            result.AddError($"{OptionName(result)} '{text}' is not a whole number from {min} to {max}.");
            return null;
        }

        return value;
    }

    private static DnsAddressFamily? ParseFamily(ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
        switch (text.ToUpperInvariant())
        {
            case "IPV4":
            case "4":
                return DnsAddressFamily.IPv4;
            case "IPV6":
            case "6":
                return DnsAddressFamily.IPv6;
            case "BOTH":
                return DnsAddressFamily.Both;
            case "IPV4-PREFERRED":
            case "IPV4PREFERRED":
                return DnsAddressFamily.IPv4Preferred;
            case "IPV6-PREFERRED":
            case "IPV6PREFERRED":
                return DnsAddressFamily.IPv6Preferred;
            default:
                result.AddError($"{OptionFlags.AddressFamily} '{text}' is not one of ipv4, ipv6, both, ipv4-preferred, ipv6-preferred.");
                return null;
        }
    }

    private static string OptionName(ArgumentResult result) =>
        result.Parent is OptionResult option ? option.Option.Name : "value";
}
