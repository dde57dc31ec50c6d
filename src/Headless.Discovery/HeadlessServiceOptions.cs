namespace Headless.Discovery;

/// <summary>
/// Options of one <c>HeadlessService</c>: what to resolve, how, and how often. Every option has a documented
/// default; <see cref="Validate"/> throws one <see cref="InvalidOptionsException"/> naming every bad option.
/// </summary>
/// <remarks>
/// A <see cref="HeadlessService"/> copies its options (nested <see cref="ActiveHealth"/> and <see cref="PassiveHealth"/>
/// included) when it is built and validates the copy: changing this object afterwards has no effect on that service.
/// </remarks>
public sealed class HeadlessServiceOptions
{
    /// <summary>
    /// The service's DNS name: short (<c>headless-nginx</c>, qualified with the pod's namespace and cluster domain),
    /// namespaced (<c>headless-nginx.default</c>), or fully qualified (<c>headless-nginx.default.svc.cluster.local</c>,
    /// or any name with a trailing dot, used as given). Required.
    /// </summary>
    public string? Name { get; set; }

    /// <summary>The port given to endpoints from A/AAAA answers, 0 to 65535. Default: 0 ("no port known").</summary>
    public int Port { get; set; }

    /// <summary>
    /// Name servers (<c>ip</c>, <c>ip:port</c>, <c>[ipv6]:port</c>; port 53 when omitted). Default: empty, meaning the
    /// system's. A bare IPv6 address whose last group also reads as a port (<c>::1:53</c>) is refused as ambiguous, as
    /// are unspecified, multicast and broadcast addresses.
    /// </summary>
    /// <exception cref="ArgumentNullException">Set to <see langword="null"/>.</exception>
    public IList<string> DnsServers
    {
        get;
        set => field = value ?? throw new ArgumentNullException(nameof(value));
    } = new List<string>();

    /// <summary>Which address records to query. Default: <see cref="DnsAddressFamily.IPv4"/>.</summary>
    public DnsAddressFamily AddressFamily { get; set; } = DnsAddressFamily.IPv4;

    /// <summary>Query SRV records (port and hostname per pod) instead of A/AAAA. Default: <see langword="false"/>.</summary>
    public bool UseSrv { get; set; }

    /// <summary>Timeout of one DNS attempt, 10 ms to 5 minutes. Default: 2 seconds.</summary>
    public TimeSpan DnsAttemptTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Retries within one resolution round after a timeout or SERVFAIL, 0 to 10. Default: 2.</summary>
    public int DnsRetryCount { get; set; } = 2;

    /// <summary>The most endpoints kept from one answer, 1 to 100 000. Default: 5000.</summary>
    public int MaxEndpoints { get; set; } = DnsEndpointResolverOptions.DefaultMaxEndpoints;

    /// <summary>
    /// The shortest time between two scheduled refreshes, whatever the TTL says (a TTL of 0 refreshes this often).
    /// Default: 1 second. At least 100 ms (the floor: at most 10 queries a second per service), at most one day, and
    /// not above <see cref="MaxRefreshInterval"/>.
    /// </summary>
    public TimeSpan MinRefreshInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The longest time between two scheduled refreshes, whatever the TTL says, 100 ms to one day. Default: 30 seconds
    /// (kubeadm's CoreDNS TTL).
    /// </summary>
    public TimeSpan MaxRefreshInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Random spread applied to each refresh delay, as a fraction: 0.1 means ±10 % (then clamped to the interval bounds),
    /// so many clients do not refresh in lock step. 0 to 0.5. Default: 0.1.
    /// </summary>
    public double RefreshJitter { get; set; } = 0.1;

    /// <summary>
    /// First delay after a failed refresh; doubles with each consecutive failure (with jitter) up to
    /// <see cref="FailureBackoffMax"/>. 10 ms to one day. Default: 1 second.
    /// </summary>
    public TimeSpan FailureBackoffBase { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest delay between retries after failures, 10 ms to one day. Default: 30 seconds.</summary>
    public TimeSpan FailureBackoffMax { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long the last known good endpoints are kept (marked stale) while DNS keeps failing. After that the set is
    /// emptied with the error in <see cref="EndpointSet.LastError"/>. Default: <see cref="Timeout.InfiniteTimeSpan"/>:
    /// a DNS outage never empties the set.
    /// </summary>
    public TimeSpan MaxStaleness { get; set; } = Timeout.InfiniteTimeSpan;

    /// <summary>
    /// How many consecutive empty answers (NXDOMAIN or NODATA) it takes before a non-empty set is replaced by an empty
    /// one; until then the old endpoints are kept, marked stale, and refreshes use the failure backoff. 1 accepts an
    /// empty answer at once. A set that is already empty takes an empty answer at once. 1 to 100. Default: 3.
    /// </summary>
    public int EmptyAnswerConfirmations { get; set; } = 3;

    /// <summary>Active health checking: which probe, how often, thresholds, concurrency. Default: off (<c>Probe = "none"</c>).</summary>
    public ActiveHealthOptions ActiveHealth { get; } = new();

    /// <summary>Passive health (outlier ejection) fed by <see cref="IHeadlessService.ReportOutcome"/>. Default: on, 5 failures eject.</summary>
    public PassiveHealthOptions PassiveHealth { get; } = new();

    /// <summary>
    /// Panic mode threshold in percent, 0 to 100: when fewer than this share of the pods are available (neither unhealthy
    /// nor ejected), <see cref="EndpointSet.Available"/> holds every pod and <see cref="EndpointSet.IsPanic"/> is set,
    /// rather than overloading the few (Envoy's rule). 0 turns panic mode off. Default: 50.
    /// </summary>
    public double PanicThreshold { get; set; } = 50;

    /// <summary>
    /// Checks every option, the nested <see cref="ActiveHealth"/> (with its <see cref="ActiveHealthOptions.Http"/>) and
    /// <see cref="PassiveHealth"/> included, and throws one <see cref="InvalidOptionsException"/> that lists every invalid
    /// option, not just the first. The <see cref="HeadlessService"/> constructor runs the same check; so does host startup
    /// for services registered with <c>AddHeadlessService</c>, naming configuration keys.
    /// </summary>
    /// <exception cref="InvalidOptionsException">
    /// Options are missing or out of range; <see cref="InvalidOptionsException.Problems"/> names each by its path
    /// (<c>ActiveHealth.Interval</c>, <c>DnsServers[1]</c>).
    /// </exception>
    public void Validate()
    {
        var problems = new OptionProblems();
        Collect(problems);
        problems.ThrowIfAny();
    }

    /// <summary>Validates the refresh and health options, not the DNS ones (used when a custom resolver supplies the endpoints).</summary>
    internal void ValidateRefresh()
    {
        var problems = new OptionProblems();
        CollectRefresh(problems);
        problems.ThrowIfAny("options");
    }

    /// <summary>Validates the DNS options only, by the paths <see cref="Validate"/> names them (what <see cref="DnsEndpointResolver"/> reads).</summary>
    internal void ValidateDns()
    {
        var problems = new OptionProblems();
        ToResolverOptions().Collect(problems);
        problems.ThrowIfAny("options");
    }

    /// <summary>Adds every problem of these options (name, DNS, refresh, health) to <paramref name="problems"/>, each once.</summary>
    internal void Collect(OptionProblems problems)
    {
        if (string.IsNullOrWhiteSpace(Name))
        {
            problems.Add(nameof(Name), "is required: the headless Service's DNS name, e.g. 'headless-nginx' or 'headless-nginx.default.svc.cluster.local'.");
        }
        else if (ServiceName.Validate(Name) is { } nameError)
        {
            problems.Add(nameof(Name), nameError);
        }

        // The DNS options are the resolver's, under the same names: checked there, so each problem is reported once.
        ToResolverOptions().Collect(problems);
        CollectRefresh(problems);
    }

    private void CollectRefresh(OptionProblems problems)
    {
        problems.Duration(MinRefreshInterval, OptionProblems.IntervalFloor, TimeSpan.FromDays(1), nameof(MinRefreshInterval));
        problems.Duration(MaxRefreshInterval, OptionProblems.IntervalFloor, TimeSpan.FromDays(1), nameof(MaxRefreshInterval));
        if (MinRefreshInterval > MaxRefreshInterval)
        {
            problems.Add(nameof(MinRefreshInterval), $"{MinRefreshInterval} is greater than {nameof(MaxRefreshInterval)} ({MaxRefreshInterval}).");
        }

        problems.Range(RefreshJitter, 0, 0.5, nameof(RefreshJitter));
        problems.Duration(FailureBackoffBase, OptionProblems.TimeoutFloor, TimeSpan.FromDays(1), nameof(FailureBackoffBase));
        problems.Duration(FailureBackoffMax, OptionProblems.TimeoutFloor, TimeSpan.FromDays(1), nameof(FailureBackoffMax));
        if (FailureBackoffBase > FailureBackoffMax)
        {
            problems.Add(nameof(FailureBackoffBase), $"{FailureBackoffBase} is greater than {nameof(FailureBackoffMax)} ({FailureBackoffMax}).");
        }

        if (MaxStaleness != Timeout.InfiniteTimeSpan && MaxStaleness < TimeSpan.Zero)
        {
            problems.Add(nameof(MaxStaleness), $"{MaxStaleness} must be zero or more, or Timeout.InfiniteTimeSpan (never drop stale endpoints).");
        }

        problems.Range(EmptyAnswerConfirmations, 1, 100, nameof(EmptyAnswerConfirmations));
        problems.Range(PanicThreshold, 0, 100, nameof(PanicThreshold), " (percent)");
        ActiveHealth.Collect(problems.Under(nameof(ActiveHealth)));
        PassiveHealth.Collect(problems.Under(nameof(PassiveHealth)));
    }

    /// <summary>A deep copy: what a service keeps, so that later changes to these options have no effect on it.</summary>
    internal HeadlessServiceOptions Clone()
    {
        var copy = new HeadlessServiceOptions
        {
            Name = Name,
            Port = Port,
            AddressFamily = AddressFamily,
            UseSrv = UseSrv,
            DnsAttemptTimeout = DnsAttemptTimeout,
            DnsRetryCount = DnsRetryCount,
            MaxEndpoints = MaxEndpoints,
            MinRefreshInterval = MinRefreshInterval,
            MaxRefreshInterval = MaxRefreshInterval,
            RefreshJitter = RefreshJitter,
            FailureBackoffBase = FailureBackoffBase,
            FailureBackoffMax = FailureBackoffMax,
            MaxStaleness = MaxStaleness,
            EmptyAnswerConfirmations = EmptyAnswerConfirmations,
            PanicThreshold = PanicThreshold,
        };
        foreach (string server in DnsServers)
        {
            copy.DnsServers.Add(server);
        }

        ActiveHealth.CopyTo(copy.ActiveHealth);
        PassiveHealth.CopyTo(copy.PassiveHealth);
        return copy;
    }

    /// <summary>The resolver options these service options imply.</summary>
    internal DnsEndpointResolverOptions ToResolverOptions()
    {
        var options = new DnsEndpointResolverOptions
        {
            AddressFamily = AddressFamily,
            UseSrv = UseSrv,
            Port = Port,
            DnsAttemptTimeout = DnsAttemptTimeout,
            DnsRetryCount = DnsRetryCount,
            MaxEndpoints = MaxEndpoints,
        };
        foreach (string server in DnsServers)
        {
            options.DnsServers.Add(server);
        }

        return options;
    }
}
