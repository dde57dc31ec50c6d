using CsCheck;
using Headless.Discovery.TestSupport;

namespace Headless.Discovery.Tests.Refresh;

/// <summary>The refresh schedule alone: TTL clamp, jitter and failure backoff over seeded random sources.</summary>
public sealed class RefreshScheduleTests
{
    private static RefreshSettings Settings(double jitter = 0.2) => new(
        MinRefreshInterval: TimeSpan.FromSeconds(1),
        MaxRefreshInterval: TimeSpan.FromSeconds(30),
        RefreshJitter: jitter,
        FailureBackoffBase: TimeSpan.FromSeconds(1),
        FailureBackoffMax: TimeSpan.FromSeconds(8),
        MaxStaleness: Timeout.InfiniteTimeSpan,
        EmptyAnswerConfirmations: 3);

    private static RefreshSchedule Seeded(int seed, double jitter = 0.2)
    {
        var random = new Random(seed);
        return new RefreshSchedule(Settings(jitter), random.NextDouble);
    }

    [Fact]
    public void Jitter_stays_within_the_configured_fraction_and_the_bounds_for_any_seed()
    {
        Property.ForAll(
            Gen.Int,
            iterations: 200,
            seed: 0x12_00_0001UL,
            seed =>
            {
                RefreshSchedule schedule = Seeded(seed);
                var seen = new HashSet<TimeSpan>();
                for (int i = 0; i < 200; i++)
                {
                    TimeSpan d = schedule.AfterAnswer(TimeSpan.FromSeconds(10));
                    Assert.InRange(d, TimeSpan.FromSeconds(8), TimeSpan.FromSeconds(12));
                    seen.Add(d);
                    Assert.InRange(schedule.AfterAnswer(TimeSpan.FromSeconds(30)), TimeSpan.FromSeconds(24), TimeSpan.FromSeconds(30));
                    Assert.InRange(schedule.ToConfirmEmptyAnswer(), TimeSpan.FromSeconds(0.8), TimeSpan.FromSeconds(1.2));
                }

                Assert.True(seen.Count > 50, $"jitter should spread delays, saw {seen.Count} distinct values");
            },
            print: seed => $"seed {seed}");
    }

    [Theory]
    [InlineData(0.0, 10, 8)]
    [InlineData(1.0, 10, 12)]
    [InlineData(0.5, 10, 10)]
    [InlineData(0.0, 0, 1)] // a TTL of zero is clamped to the minimum
    [InlineData(1.0, 3600, 30)] // and a huge one to the maximum
    public void The_edges_of_the_jitter_are_exact(double sample, double ttlSeconds, double expectedSeconds)
    {
        var schedule = new RefreshSchedule(Settings(), () => sample);
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), schedule.AfterAnswer(TimeSpan.FromSeconds(ttlSeconds)));
    }

    [Fact]
    public void Without_jitter_the_ttl_is_only_clamped()
    {
        RefreshSchedule schedule = Seeded(7, jitter: 0);
        Assert.Equal(TimeSpan.FromSeconds(7), schedule.AfterAnswer(TimeSpan.FromSeconds(7)));
        Assert.Equal(TimeSpan.FromSeconds(1), schedule.AfterAnswer(TimeSpan.FromSeconds(0.2)));
        Assert.Equal(TimeSpan.FromSeconds(30), schedule.AfterAnswer(TimeSpan.FromHours(1)));
        Assert.Equal(TimeSpan.FromSeconds(1), schedule.ToConfirmEmptyAnswer());
    }

    [Fact]
    public void Failure_backoff_is_exponential_with_equal_jitter_for_any_seed()
    {
        Assert.Equal(TimeSpan.FromSeconds(2), new RefreshSchedule(Settings(), () => 0.0).AfterFailure(3));
        Assert.Equal(TimeSpan.FromSeconds(4), new RefreshSchedule(Settings(), () => 1.0).AfterFailure(3));
        Property.ForAll(
            Gen.Int,
            iterations: 200,
            seed: 0x12_00_0002UL,
            seed =>
            {
                RefreshSchedule schedule = Seeded(seed);
                for (int i = 0; i < 100; i++)
                {
                    Assert.InRange(schedule.AfterFailure(4), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(8));
                    Assert.InRange(schedule.AfterFailure(40), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(8));
                }
            },
            print: seed => $"seed {seed}");
    }
}
