namespace Headless.Discovery.Tests.Selection;

/// <summary>A pod's outstanding-lease count: a limit reserves slots exactly; without one every lease counts.</summary>
public sealed class OutstandingCounterTests
{
    private static readonly PodEndpoint Pod = TestPods.Pod(0);

    [Fact]
    public void A_limited_counter_reserves_exactly_its_limit_and_a_release_frees_one_slot()
    {
        var counter = new OutstandingCounter(2);
        Assert.True(counter.TryAcquire());
        Assert.Equal(1, counter.Value);
        Assert.True(counter.TryAcquire());
        Assert.False(counter.TryAcquire());
        Assert.Equal(2, counter.Value);

        counter.Release(Pod, 1);
        Assert.Equal(1, counter.Value);
        Assert.True(counter.TryAcquire());
        Assert.Equal(2, counter.Value);
    }

    [Fact]
    public void An_unlimited_counter_takes_every_lease_and_never_goes_below_zero()
    {
        var counter = new OutstandingCounter();
        for (int i = 0; i < 5; i++)
        {
            Assert.True(counter.TryAcquire());
        }

        Assert.Equal(5, counter.Value);
        for (int i = 0; i < 7; i++)
        {
            counter.Release(Pod, 0);
        }

        Assert.Equal(0, counter.Value);
    }
}
