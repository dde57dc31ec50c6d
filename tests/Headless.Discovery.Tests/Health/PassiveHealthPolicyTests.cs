using CsCheck;
using Headless.Discovery.TestSupport;

namespace Headless.Discovery.Tests.Health;

/// <summary>The arithmetic of outlier ejection on its own: duration, the ejection cap and the panic rule, at their boundaries.</summary>
public sealed class PassiveHealthPolicyTests
{
    private static readonly TimeSpan Base = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Max = TimeSpan.FromSeconds(300);

    [Theory]
    [InlineData(0, 30)]
    [InlineData(1, 30)]
    [InlineData(2, 60)]
    [InlineData(9, 270)]
    [InlineData(10, 300)]
    [InlineData(11, 300)]
    [InlineData(int.MaxValue, 300)]
    public void An_ejection_lasts_the_base_time_times_the_ejection_count_at_least_once_and_at_most_the_max(int timesEjected, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), PassiveHealthPolicy.EjectionDuration(Base, Max, timesEjected));

    [Fact]
    public void An_ejection_duration_is_the_base_time_times_the_count_capped_at_the_max_over_generated_times()
    {
        // Products stay below 2^53 ticks here, so the model is exact; the cap is checked up to TimeSpan.MaxValue.
        Gen<(long BaseTicks, long MaxTicks, int Times)> cases = Gen.Select(Gen.Long[1, TimeSpan.FromDays(1).Ticks], Gen.OneOf(Gen.Long[1, TimeSpan.FromDays(10_000).Ticks], Gen.Long[1, TimeSpan.MaxValue.Ticks]), Gen.Int[0, 10_000]);
        Property.ForAll(
            cases,
            iterations: 1000,
            seed: 0x10_05_0002UL,
            c =>
            {
                TimeSpan duration = PassiveHealthPolicy.EjectionDuration(TimeSpan.FromTicks(c.BaseTicks), TimeSpan.FromTicks(c.MaxTicks), c.Times);
                Assert.Equal(Math.Min(c.BaseTicks * Math.Max(1, c.Times), c.MaxTicks), duration.Ticks);
            },
            print: c => $"base {c.BaseTicks} ticks, max {c.MaxTicks} ticks, ejected {c.Times} times");
    }

    [Theory]
    [InlineData(0, 10, 10.0, true)] // 1 of 10 is exactly 10 %: allowed
    [InlineData(1, 10, 10.0, false)] // 2 of 10 would be 20 %
    [InlineData(4, 10, 50.0, true)]
    [InlineData(5, 10, 50.0, false)]
    [InlineData(0, 3, 33.3, false)] // 1 of 3 is 33.33 %, above 33.3 %
    [InlineData(0, 3, 33.34, true)]
    [InlineData(0, 1, 100.0, true)]
    [InlineData(0, 1, 99.9, false)]
    [InlineData(0, 10, 0.0, false)] // 0 % never ejects
    [InlineData(0, 0, 100.0, false)] // nothing to eject
    public void One_more_ejection_is_allowed_only_while_the_ejected_share_stays_at_or_below_the_max_percent(int alreadyEjected, int total, double maxPercent, bool allowed) =>
        Assert.Equal(allowed, PassiveHealthPolicy.CanEject(alreadyEjected, total, maxPercent));

    [Theory]
    [InlineData(5, 10, 50.0, false)] // exactly at the threshold: not panic
    [InlineData(4, 10, 50.0, true)]
    [InlineData(0, 10, 0.0, false)] // a threshold of 0 never panics
    [InlineData(0, 0, 50.0, false)] // no pods: no panic
    [InlineData(9, 10, 100.0, true)]
    [InlineData(10, 10, 100.0, false)]
    [InlineData(1, 3, 33.4, true)] // 33.33 % available
    [InlineData(1, 3, 33.3, false)]
    public void Panic_means_fewer_than_the_threshold_percent_of_the_pods_are_available(int available, int total, double thresholdPercent, bool panic) =>
        Assert.Equal(panic, AvailabilityPolicy.IsPanic(available, total, thresholdPercent));
}
