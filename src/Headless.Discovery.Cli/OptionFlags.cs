namespace Headless.Discovery.Cli;

/// <summary>
/// The CLI's flags and the one table from library option paths (<see cref="OptionProblem.Path"/>) to them, so that an
/// invalid option is reported under the flag that set it (README's option ↔ configuration key ↔ flag table).
/// </summary>
internal static class OptionFlags
{
    public const string DnsServer = "--dns-server";
    public const string Port = "--port";
    public const string AddressFamily = "--address-family";
    public const string UseSrv = "--use-srv";
    public const string DnsAttemptTimeout = "--dns-attempt-timeout";
    public const string DnsRetryCount = "--dns-retry-count";
    public const string MinRefreshInterval = "--min-refresh-interval";
    public const string MaxRefreshInterval = "--max-refresh-interval";
    public const string Probe = "--probe";
    public const string ProbeInterval = "--probe-interval";
    public const string ProbeTimeout = "--probe-timeout";
    public const string HealthyThreshold = "--healthy-threshold";
    public const string UnhealthyThreshold = "--unhealthy-threshold";
    public const string PerPodTimeout = "--per-pod-timeout";
    public const string MaxParallelism = "--max-parallelism";

    /// <summary>Option path (list entries without their index) → flag.</summary>
    private static readonly Dictionary<string, string> ByPath = new(StringComparer.Ordinal)
    {
        [nameof(HeadlessServiceOptions.Name)] = "<name>",
        [nameof(HeadlessServiceOptions.DnsServers)] = DnsServer,
        [nameof(HeadlessServiceOptions.Port)] = Port,
        [nameof(HeadlessServiceOptions.AddressFamily)] = AddressFamily,
        [nameof(HeadlessServiceOptions.UseSrv)] = UseSrv,
        [nameof(HeadlessServiceOptions.DnsAttemptTimeout)] = DnsAttemptTimeout,
        [nameof(HeadlessServiceOptions.DnsRetryCount)] = DnsRetryCount,
        [nameof(HeadlessServiceOptions.MinRefreshInterval)] = MinRefreshInterval,
        [nameof(HeadlessServiceOptions.MaxRefreshInterval)] = MaxRefreshInterval,
        [$"{nameof(HeadlessServiceOptions.ActiveHealth)}.{nameof(ActiveHealthOptions.Probe)}"] = Probe,
        [$"{nameof(HeadlessServiceOptions.ActiveHealth)}.{nameof(ActiveHealthOptions.Interval)}"] = ProbeInterval,
        [$"{nameof(HeadlessServiceOptions.ActiveHealth)}.{nameof(ActiveHealthOptions.Timeout)}"] = ProbeTimeout,
        [$"{nameof(HeadlessServiceOptions.ActiveHealth)}.{nameof(ActiveHealthOptions.HealthyThreshold)}"] = HealthyThreshold,
        [$"{nameof(HeadlessServiceOptions.ActiveHealth)}.{nameof(ActiveHealthOptions.UnhealthyThreshold)}"] = UnhealthyThreshold,
        [nameof(FanOutOptions.PerPodTimeout)] = PerPodTimeout,
        [nameof(FanOutOptions.MaxParallelism)] = MaxParallelism,
    };

    /// <summary>The flag that sets the option at <paramref name="path"/>, or the path itself for an option the CLI derives.</summary>
    public static string Of(string path)
    {
        int index = path.IndexOf('[', StringComparison.Ordinal);
        return ByPath.TryGetValue(index < 0 ? path : path[..index], out string? flag) ? flag : path;
    }

    /// <summary>A usage error listing every problem of <paramref name="invalid"/> under its flag, one per line.</summary>
    public static UsageException ToUsage(InvalidOptionsException invalid) =>
        new(string.Join(Environment.NewLine, invalid.Problems.Select(p => $"{Of(p.Path)}: {p.Message}")), invalid);

    /// <summary>Validates <paramref name="options"/> with the library's validator; every problem becomes a usage error line.</summary>
    public static HeadlessServiceOptions Validated(HeadlessServiceOptions options)
    {
        try
        {
            options.Validate();
        }
        catch (InvalidOptionsException ex)
        {
            throw ToUsage(ex);
        }

        return options;
    }
}
