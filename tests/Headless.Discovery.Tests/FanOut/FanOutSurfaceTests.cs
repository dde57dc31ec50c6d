using Headless.Discovery;

namespace Headless.Discovery.Tests.FanOut;

/// <summary>
/// The fan-out's public values on their own: modes (construction, parsing, printing) and the options' defaults and
/// bounds. No fan-out runs here.
/// </summary>
public sealed class FanOutSurfaceTests
{
    [Fact]
    public void All_is_the_all_rule_with_no_quorum_and_no_hedging()
    {
        Assert.Equal(FanOutModeKind.All, FanOutMode.All.Kind);
        Assert.Equal(0, FanOutMode.All.QuorumCount);
        Assert.Equal(Timeout.InfiniteTimeSpan, FanOutMode.All.HedgeDelay);
    }

    [Fact]
    public void Quorum_keeps_its_count_and_accepts_one()
    {
        FanOutMode one = FanOutMode.Quorum(1);
        Assert.Equal(FanOutModeKind.Quorum, one.Kind);
        Assert.Equal(1, one.QuorumCount);
        Assert.Equal(Timeout.InfiniteTimeSpan, one.HedgeDelay);
        Assert.Equal(7, FanOutMode.Quorum(7).QuorumCount);
        Assert.Throws<ArgumentOutOfRangeException>(() => FanOutMode.Quorum(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => FanOutMode.Quorum(-1));
    }

    [Fact]
    public void First_success_defaults_to_100_ms_and_takes_any_positive_or_infinite_hedge_delay()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(100), FanOutMode.DefaultHedgeDelay);
        Assert.Equal(FanOutMode.DefaultHedgeDelay, FanOutMode.FirstSuccess().HedgeDelay);
        Assert.Equal(FanOutModeKind.FirstSuccess, FanOutMode.FirstSuccess().Kind);
        Assert.Equal(0, FanOutMode.FirstSuccess().QuorumCount);
        Assert.Equal(TimeSpan.FromTicks(1), FanOutMode.FirstSuccess(TimeSpan.FromTicks(1)).HedgeDelay);
        Assert.Equal(Timeout.InfiniteTimeSpan, FanOutMode.FirstSuccess(Timeout.InfiniteTimeSpan).HedgeDelay);

        foreach (TimeSpan bad in new[] { TimeSpan.Zero, TimeSpan.FromTicks(-1), TimeSpan.FromMilliseconds(-2), TimeSpan.MinValue })
        {
            ArgumentOutOfRangeException error = Assert.Throws<ArgumentOutOfRangeException>(() => FanOutMode.FirstSuccess(bad));
            Assert.Equal("hedgeDelay", error.ParamName);
        }
    }

    public static TheoryData<string, FanOutMode> ValidModes => new()
    {
        { "all", FanOutMode.All },
        { "ALL", FanOutMode.All },
        { " all ", FanOutMode.All },
        { "\tfirst\n", FanOutMode.FirstSuccess() },
        { "First", FanOutMode.FirstSuccess() },
        { "quorum:1", FanOutMode.Quorum(1) },
        { "Quorum:12", FanOutMode.Quorum(12) },
        { " quorum:3 ", FanOutMode.Quorum(3) },
        { "first:1", FanOutMode.FirstSuccess(TimeSpan.FromMilliseconds(1)) },
        { "FIRST:250", FanOutMode.FirstSuccess(TimeSpan.FromMilliseconds(250)) },
    };

    [Theory]
    [MemberData(nameof(ValidModes))]
    public void Modes_parse_to_the_mode_they_name(string text, FanOutMode expected)
    {
        Assert.True(FanOutMode.TryParse(text, out FanOutMode? mode));
        Assert.Equal((expected.Kind, expected.QuorumCount, expected.HedgeDelay), (mode.Kind, mode.QuorumCount, mode.HedgeDelay));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("al")]
    [InlineData("all:1")]
    [InlineData("quorum")]
    [InlineData("quorum:")]
    [InlineData("quorum:0")]
    [InlineData("quorum:-1")]
    [InlineData("quorum:+2")]
    [InlineData("quorum: 2")]
    [InlineData("quorum:2x")]
    [InlineData("quorum:99999999999")]
    [InlineData("first:")]
    [InlineData("first:0")]
    [InlineData("first:-5")]
    [InlineData("first:1.5")]
    [InlineData("2:quorum")]
    [InlineData("x:quorum:2")]
    [InlineData("x:first:20")]
    public void Text_that_names_no_mode_does_not_parse(string? text)
    {
        Assert.False(FanOutMode.TryParse(text, out FanOutMode? mode));
        Assert.Null(mode);
    }

    [Fact]
    public void Modes_print_in_the_form_they_parse_from()
    {
        Assert.Equal("all", FanOutMode.All.ToString());
        Assert.Equal("quorum:1", FanOutMode.Quorum(1).ToString());
        Assert.Equal("quorum:12", FanOutMode.Quorum(12).ToString());
        Assert.Equal("first", FanOutMode.FirstSuccess(TimeSpan.FromSeconds(3)).ToString());
        foreach (FanOutMode mode in new[] { FanOutMode.All, FanOutMode.Quorum(1), FanOutMode.Quorum(12), FanOutMode.FirstSuccess() })
        {
            Assert.True(FanOutMode.TryParse(mode.ToString(), out FanOutMode? parsed));
            Assert.Equal((mode.Kind, mode.QuorumCount, mode.HedgeDelay), (parsed.Kind, parsed.QuorumCount, parsed.HedgeDelay));
        }
    }

    [Fact]
    public void Options_default_to_all_pods_32_at_a_time_without_limits_reporting_outcomes()
    {
        var options = new FanOutOptions();
        Assert.Equal(32, FanOutOptions.DefaultMaxParallelism);
        Assert.Same(FanOutMode.All, options.Mode);
        Assert.Equal(FanOutOptions.DefaultMaxParallelism, options.MaxParallelism);
        Assert.Null(options.PerPodTimeout);
        Assert.Null(options.Deadline);
        Assert.Null(options.Pipeline);
        Assert.False(options.IncludeUnhealthy);
        Assert.True(options.ReportOutcomes);
        Assert.Null(options.Random);
        options.Validate();
    }

    [Fact]
    public void A_missing_mode_is_refused_naming_the_option()
    {
        InvalidOptionsException error = Assert.Throws<InvalidOptionsException>(() => new FanOutOptions { Mode = null! }.Validate());
        Assert.Equal(nameof(FanOutOptions.Mode), Assert.Single(error.Problems).Path);
        Assert.Contains("Mode: is required", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1, true)]
    [InlineData(2, true)]
    [InlineData(int.MaxValue, true)]
    [InlineData(0, false)]
    [InlineData(-1, false)]
    [InlineData(int.MinValue, false)]
    public void Max_parallelism_must_be_one_or_more(int value, bool valid)
    {
        var options = new FanOutOptions { MaxParallelism = value };
        if (valid)
        {
            options.Validate();
            return;
        }

        InvalidOptionsException error = Assert.Throws<InvalidOptionsException>(options.Validate);
        Assert.Equal(nameof(FanOutOptions.MaxParallelism), Assert.Single(error.Problems).Path);
        Assert.Contains($"MaxParallelism: {value} must be 1 or more", error.Message, StringComparison.Ordinal);
    }

    // 49.7 days is the longest a .NET timer runs (uint.MaxValue - 1 milliseconds).
    private const double LongestTimerMs = uint.MaxValue - 1.0;

    public static TheoryData<TimeSpan, bool> Limits => new()
    {
        { TimeSpan.FromTicks(1), true },
        { TimeSpan.FromMilliseconds(1), true },
        { TimeSpan.FromDays(49), true },
        { TimeSpan.FromMilliseconds(LongestTimerMs), true },
        { TimeSpan.FromMilliseconds(LongestTimerMs + 1), false },
        { TimeSpan.FromDays(50), false },
        { TimeSpan.MaxValue, false },
        { Timeout.InfiniteTimeSpan, false },
        { TimeSpan.Zero, false },
        { TimeSpan.FromTicks(-1), false },
        { TimeSpan.MinValue, false },
    };

    [Theory]
    [MemberData(nameof(Limits))]
    public void The_per_pod_timeout_must_be_positive_and_under_49_days(TimeSpan value, bool valid)
    {
        var options = new FanOutOptions { PerPodTimeout = value };
        if (valid)
        {
            options.Validate();
            return;
        }

        InvalidOptionsException error = Assert.Throws<InvalidOptionsException>(options.Validate);
        Assert.Equal(nameof(FanOutOptions.PerPodTimeout), Assert.Single(error.Problems).Path);
        Assert.Contains("PerPodTimeout: ", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Limits))]
    public void The_deadline_must_be_positive_and_under_49_days(TimeSpan value, bool valid)
    {
        var options = new FanOutOptions { Deadline = value };
        if (valid)
        {
            options.Validate();
            return;
        }

        InvalidOptionsException error = Assert.Throws<InvalidOptionsException>(options.Validate);
        Assert.Equal(nameof(FanOutOptions.Deadline), Assert.Single(error.Problems).Path);
        Assert.Contains("Deadline: ", error.Message, StringComparison.Ordinal);
    }
}
