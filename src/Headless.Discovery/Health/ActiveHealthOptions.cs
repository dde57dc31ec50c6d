namespace Headless.Discovery;

/// <summary>
/// Active health checking of every pod of a <see cref="HeadlessService"/> (the <see cref="HeadlessServiceOptions.ActiveHealth"/>
/// section). Off by default. Every option documents its default; validation names every bad one.
/// </summary>
/// <remarks>
/// A pod's first probe decides its health (healthy or unhealthy); after that it takes <see cref="UnhealthyThreshold"/>
/// consecutive failures to turn a healthy pod unhealthy and <see cref="HealthyThreshold"/> consecutive successes to turn
/// it healthy again (hysteresis, like Kubernetes probes and Envoy).
/// </remarks>
public sealed class ActiveHealthOptions
{
    /// <summary>
    /// Which probe to run: <c>none</c> (no active checks), <c>tcp</c> (a TCP connect),
    /// <c>http:&lt;path&gt;</c> or <c>https:&lt;path&gt;</c> (a GET of the path, with the <see cref="Http"/> settings);
    /// <see cref="EndpointProbes.Create"/> describes each. Ignored when <see cref="CustomProbe"/> is set. Default: <c>none</c>.
    /// </summary>
    public string Probe { get; set; } = "none";

    /// <summary>
    /// A probe of your own (for example one from <see cref="EndpointProbes.FromDelegate"/>); takes precedence over <see cref="Probe"/>.
    /// The service does not dispose it. Default: <see langword="null"/>.
    /// </summary>
    public IEndpointProbe? CustomProbe { get; set; }

    /// <summary>
    /// Settings of the HTTP probe (status range, Host header, certificate checks); the scheme and path come from
    /// <see cref="Probe"/> alone.
    /// </summary>
    public HttpProbeOptions Http { get; } = new();

    /// <summary>Time between two probes of the same pod (start to start). Default: 5 seconds. 100 ms (the floor: at most 10 probes a second per pod) to one day.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long one probe may take before it counts as failed. Default: 2 seconds. 10 ms (the floor) to one day.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Consecutive successes that turn an unhealthy pod healthy, 1 to 100. Default: 2.</summary>
    public int HealthyThreshold { get; set; } = 2;

    /// <summary>Consecutive failures that turn a healthy pod unhealthy, 1 to 100. Default: 3.</summary>
    public int UnhealthyThreshold { get; set; } = 3;

    /// <summary>The most probes in flight at once for the service, 1 to 10 000. Default: 64.</summary>
    public int MaxConcurrentProbes { get; set; } = 64;

    /// <summary>
    /// A new pod's first probe runs after a random delay in [0, <see cref="InitialJitter"/>], so a burst of new pods
    /// (or many clients starting together) does not probe in lock step. Zero probes new pods at once.
    /// Default: zero. At most one day.
    /// </summary>
    public TimeSpan InitialJitter { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// Random spread applied to each <see cref="Interval"/>, as a fraction: 0.1 means ±10 %. 0 to 0.5. Default: 0.1.
    /// </summary>
    public double IntervalJitter { get; set; } = 0.1;

    /// <summary><see langword="true"/> when a probe is configured (<see cref="CustomProbe"/> or a <see cref="Probe"/> other than <c>none</c>).</summary>
    internal bool Enabled => CustomProbe is not null || !string.Equals(Probe?.Trim(), "none", StringComparison.OrdinalIgnoreCase);

    /// <summary>Checks every option; throws one <see cref="InvalidOptionsException"/> listing every bad one.</summary>
    internal void Validate()
    {
        var problems = new OptionProblems();
        Collect(problems);
        problems.ThrowIfAny();
    }

    /// <summary>Adds every problem of these options (and of <see cref="Http"/>) to <paramref name="problems"/>.</summary>
    internal void Collect(OptionProblems problems)
    {
        if (CustomProbe is null && TryParseProbe(Probe, out _, out _) is { } error)
        {
            problems.Add(nameof(Probe), error);
        }

        problems.Duration(Interval, OptionProblems.IntervalFloor, TimeSpan.FromDays(1), nameof(Interval));
        problems.Duration(Timeout, OptionProblems.TimeoutFloor, TimeSpan.FromDays(1), nameof(Timeout));
        problems.Range(HealthyThreshold, 1, 100, nameof(HealthyThreshold));
        problems.Range(UnhealthyThreshold, 1, 100, nameof(UnhealthyThreshold));
        problems.Range(MaxConcurrentProbes, 1, 10_000, nameof(MaxConcurrentProbes));
        if (InitialJitter < TimeSpan.Zero || InitialJitter > TimeSpan.FromDays(1))
        {
            problems.Add(nameof(InitialJitter), $"{InitialJitter} must be between zero and one day.");
        }

        problems.Range(IntervalJitter, 0, 0.5, nameof(IntervalJitter));
        Http.Collect(problems.Under(nameof(Http)));
    }

    /// <summary>
    /// Parses a probe specification: <c>none</c>, <c>tcp</c>, <c>http:&lt;path&gt;</c> or <c>https:&lt;path&gt;</c>
    /// (case-insensitive kind; the path must start with <c>/</c>).
    /// </summary>
    /// <param name="spec">The specification.</param>
    /// <param name="kind">The probe kind: <c>none</c>, <c>tcp</c>, <c>http</c> or <c>https</c>.</param>
    /// <param name="path">The HTTP path, or <see langword="null"/> for none and tcp.</param>
    /// <returns>An error message, or <see langword="null"/> when <paramref name="spec"/> is valid.</returns>
    internal static string? TryParseProbe(string? spec, out string kind, out string? path)
    {
        kind = "none";
        path = null;
        string text = spec?.Trim() ?? string.Empty;
        if (text.Equals("none", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        if (text.Equals("tcp", StringComparison.OrdinalIgnoreCase))
        {
            kind = "tcp";
            return null;
        }

        int colon = text.IndexOf(':', StringComparison.Ordinal);
        string scheme = colon < 0 ? text : text[..colon];
        if (!scheme.Equals("http", StringComparison.OrdinalIgnoreCase) && !scheme.Equals("https", StringComparison.OrdinalIgnoreCase))
        {
            return $"'{spec}' is not a probe: use none, tcp, http:<path> or https:<path> (e.g. http:/healthz).";
        }

        if (colon < 0)
        {
            return $"'{spec}' needs a path: {scheme.ToLowerInvariant()}:/<path> (e.g. {scheme.ToLowerInvariant()}:/healthz).";
        }

        string candidate = text[(colon + 1)..];
        string? pathError = HttpProbeOptions.ValidatePath(candidate);
        if (pathError is not null)
        {
            return $"the path {pathError}";
        }

        kind = scheme.ToLowerInvariant();
        path = candidate;
        return null;
    }

    /// <summary>Copies every option into <paramref name="target"/> (the custom probe by reference).</summary>
    internal void CopyTo(ActiveHealthOptions target)
    {
        target.Probe = Probe;
        target.CustomProbe = CustomProbe;
        Http.CopyTo(target.Http);
        target.Interval = Interval;
        target.Timeout = Timeout;
        target.HealthyThreshold = HealthyThreshold;
        target.UnhealthyThreshold = UnhealthyThreshold;
        target.MaxConcurrentProbes = MaxConcurrentProbes;
        target.InitialJitter = InitialJitter;
        target.IntervalJitter = IntervalJitter;
    }

    /// <summary>Creates the configured probe, or <see langword="null"/> when active checks are off. Call after <see cref="Validate"/>.</summary>
    /// <param name="owned">Whether the caller owns (and must dispose) the returned probe.</param>
    internal IEndpointProbe? CreateProbe(out bool owned)
    {
        owned = false;
        if (CustomProbe is not null)
        {
            return CustomProbe;
        }

        _ = TryParseProbe(Probe, out string kind, out _);
        if (kind == "none")
        {
            return null;
        }

        IEndpointProbe probe = EndpointProbes.Create(Probe, Http);
        owned = probe is IDisposable;
        return probe;
    }
}
