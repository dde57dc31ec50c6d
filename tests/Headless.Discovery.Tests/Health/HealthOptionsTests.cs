namespace Headless.Discovery.Tests.Health;

public sealed class HealthOptionsTests
{
    [Theory]
    [InlineData("none", "none", null)]
    [InlineData(" NONE ", "none", null)]
    [InlineData("tcp", "tcp", null)]
    [InlineData("http:/", "http", "/")]
    [InlineData("HTTP:/healthz?full=1", "http", "/healthz?full=1")]
    [InlineData("https:/ready", "https", "/ready")]
    public void Valid_probe_specifications_parse(string spec, string kind, string? path)
    {
        Assert.Null(ActiveHealthOptions.TryParseProbe(spec, out string parsedKind, out string? parsedPath));
        Assert.Equal(kind, parsedKind);
        Assert.Equal(path, parsedPath);
    }

    [Theory]
    [InlineData("", "is not a probe")]
    [InlineData("udp", "is not a probe")]
    [InlineData("http", "needs a path")]
    [InlineData("http:healthz", "must start with '/'")]
    [InlineData("http:/a b", "without spaces")]
    [InlineData("http://evil/", "absolute path")]
    public void Invalid_probe_specifications_say_why(string spec, string fragment)
    {
        string? error = ActiveHealthOptions.TryParseProbe(spec, out _, out _);
        Assert.NotNull(error);
        Assert.Contains(fragment, error, StringComparison.Ordinal);
    }

    public static TheoryData<Action<HeadlessServiceOptions>, string> BadOptions() => new()
    {
        { o => o.ActiveHealth.Probe = "ftp:/", "ActiveHealth.Probe" },
        { o => o.ActiveHealth.Interval = TimeSpan.Zero, "ActiveHealth.Interval" },
        { o => o.ActiveHealth.Timeout = TimeSpan.FromSeconds(-1), "ActiveHealth.Timeout" },
        { o => o.ActiveHealth.HealthyThreshold = 0, "ActiveHealth.HealthyThreshold" },
        { o => o.ActiveHealth.UnhealthyThreshold = 101, "ActiveHealth.UnhealthyThreshold" },
        { o => o.ActiveHealth.MaxConcurrentProbes = 0, "ActiveHealth.MaxConcurrentProbes" },
        { o => o.ActiveHealth.InitialJitter = TimeSpan.FromSeconds(-1), "ActiveHealth.InitialJitter" },
        { o => o.ActiveHealth.IntervalJitter = 0.9, "ActiveHealth.IntervalJitter" },
        { o => o.ActiveHealth.Http.MaxHealthyStatus = 99, "ActiveHealth.Http.MaxHealthyStatus" },
        { o => o.ActiveHealth.Http.Host = "a b", "ActiveHealth.Http.Host" },
        { o => o.PassiveHealth.ConsecutiveFailures = 0, "PassiveHealth.ConsecutiveFailures" },
        { o => o.PassiveHealth.BaseEjectionTime = TimeSpan.Zero, "PassiveHealth.BaseEjectionTime" },
        { o => o.PassiveHealth.MaxEjectionTime = TimeSpan.FromSeconds(1), "PassiveHealth.MaxEjectionTime" },
        { o => o.PassiveHealth.MaxEjectionPercent = 101, "PassiveHealth.MaxEjectionPercent" },
        { o => o.PanicThreshold = double.NaN, "PanicThreshold" },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void Bad_health_options_are_rejected_with_the_option_named(Action<HeadlessServiceOptions> configure, string name)
    {
        var options = new HeadlessServiceOptions { Name = "web.default.svc.cluster.local" };
        configure(options);
        InvalidOptionsException ex = Assert.Throws<InvalidOptionsException>(options.Validate);
        Assert.StartsWith(name, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Defaults_are_documented_values_and_valid()
    {
        var options = new HeadlessServiceOptions { Name = "web.default.svc.cluster.local" };
        options.Validate();
        Assert.False(options.ActiveHealth.Enabled);
        Assert.Equal(TimeSpan.FromSeconds(5), options.ActiveHealth.Interval);
        Assert.Equal(TimeSpan.FromSeconds(2), options.ActiveHealth.Timeout);
        Assert.Equal(2, options.ActiveHealth.HealthyThreshold);
        Assert.Equal(3, options.ActiveHealth.UnhealthyThreshold);
        Assert.Equal(64, options.ActiveHealth.MaxConcurrentProbes);
        Assert.True(options.PassiveHealth.Enabled);
        Assert.Equal(5, options.PassiveHealth.ConsecutiveFailures);
        Assert.Equal(50, options.PassiveHealth.MaxEjectionPercent);
        Assert.Equal(50, options.PanicThreshold);
        options.ActiveHealth.Probe = "http:/";
        Assert.True(options.ActiveHealth.Enabled);
    }

    [Fact]
    public void A_custom_probe_takes_precedence()
    {
        var options = new ActiveHealthOptions { Probe = "not-a-probe", CustomProbe = new TcpConnectProbe() };
        options.Validate();
        Assert.True(options.Enabled);
        Assert.Same(options.CustomProbe, options.CreateProbe(out bool owned));
        Assert.False(owned);
    }

    [Theory]
    [InlineData(30, 300, 1, 30)]
    [InlineData(30, 300, 2, 60)]
    [InlineData(30, 300, 9, 270)]
    [InlineData(30, 300, 10, 300)]
    [InlineData(30, 300, 1000, 300)]
    public void Ejection_lasts_base_times_count_capped(int baseSeconds, int maxSeconds, int times, int expectedSeconds) =>
        Assert.Equal(
            TimeSpan.FromSeconds(expectedSeconds),
            PassiveHealthPolicy.EjectionDuration(TimeSpan.FromSeconds(baseSeconds), TimeSpan.FromSeconds(maxSeconds), times));

    [Theory]
    [InlineData(0, 1, 50, false)]
    [InlineData(0, 2, 50, true)]
    [InlineData(1, 2, 50, false)]
    [InlineData(1, 4, 50, true)]
    [InlineData(2, 4, 50, false)]
    [InlineData(9, 10, 100, true)]
    [InlineData(0, 10, 0, false)]
    [InlineData(0, 0, 100, false)]
    public void Ejection_never_exceeds_the_max_percent(int ejected, int total, double percent, bool allowed) =>
        Assert.Equal(allowed, PassiveHealthPolicy.CanEject(ejected, total, percent));

    [Theory]
    [InlineData(2, 4, 50, false)]
    [InlineData(1, 4, 50, true)]
    [InlineData(0, 4, 50, true)]
    [InlineData(0, 4, 0, false)]
    [InlineData(0, 0, 50, false)]
    [InlineData(2, 3, 70, true)]
    public void Panic_means_fewer_than_the_threshold_available(int available, int total, double threshold, bool panic) =>
        Assert.Equal(panic, AvailabilityPolicy.IsPanic(available, total, threshold));
}
