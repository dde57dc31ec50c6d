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
        Assert.Null(HealthCheckOptions.TryParseProbe(spec, out string parsedKind, out string? parsedPath));
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
        string? error = HealthCheckOptions.TryParseProbe(spec, out _, out _);
        Assert.NotNull(error);
        Assert.Contains(fragment, error, StringComparison.Ordinal);
    }

    public static TheoryData<Action<HeadlessServiceOptions>, string> BadOptions() => new()
    {
        { o => o.Health.Probe = "ftp:/", "Health.Probe" },
        { o => o.Health.Interval = TimeSpan.Zero, "Health.Interval" },
        { o => o.Health.Timeout = TimeSpan.FromSeconds(-1), "Health.Timeout" },
        { o => o.Health.HealthyThreshold = 0, "Health.HealthyThreshold" },
        { o => o.Health.UnhealthyThreshold = 101, "Health.UnhealthyThreshold" },
        { o => o.Health.MaxConcurrentProbes = 0, "Health.MaxConcurrentProbes" },
        { o => o.Health.InitialJitter = TimeSpan.FromSeconds(-1), "Health.InitialJitter" },
        { o => o.Health.IntervalJitter = 0.9, "Health.IntervalJitter" },
        { o => o.Health.Http.MaxHealthyStatus = 99, "Health.Http.MaxHealthyStatus" },
        { o => o.Health.Http.Host = "a b", "Health.Http.Host" },
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
        ArgumentException ex = Assert.Throws<ArgumentException>(options.Validate);
        Assert.StartsWith(name, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Defaults_are_documented_values_and_valid()
    {
        var options = new HeadlessServiceOptions { Name = "web.default.svc.cluster.local" };
        options.Validate();
        Assert.False(options.Health.IsEnabled);
        Assert.Equal(TimeSpan.FromSeconds(5), options.Health.Interval);
        Assert.Equal(TimeSpan.FromSeconds(2), options.Health.Timeout);
        Assert.Equal(2, options.Health.HealthyThreshold);
        Assert.Equal(3, options.Health.UnhealthyThreshold);
        Assert.Equal(64, options.Health.MaxConcurrentProbes);
        Assert.True(options.PassiveHealth.Enabled);
        Assert.Equal(5, options.PassiveHealth.ConsecutiveFailures);
        Assert.Equal(50, options.PassiveHealth.MaxEjectionPercent);
        Assert.Equal(50, options.PanicThreshold);
        options.Health.Probe = "http:/";
        Assert.True(options.Health.IsEnabled);
    }

    [Fact]
    public void A_custom_probe_takes_precedence()
    {
        var options = new HealthCheckOptions { Probe = "not-a-probe", CustomProbe = new TcpConnectProbe() };
        options.Validate();
        Assert.True(options.IsEnabled);
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
