using Headless.Discovery;
using static Headless.Discovery.Tests.Selection.FakeHeadlessService;

namespace Headless.Discovery.Tests.Selection;

public sealed class ConsistentHashSelectorTests
{
    private const int Keys = 100_000;

    private static PodEndpoint[] Map(ConsistentHashSelector selector) =>
        [.. Enumerable.Range(0, Keys).Select(k => selector.Pick(StableHash.Hash(k)))];

    [Fact]
    public void The_same_key_maps_to_the_same_pod_in_every_client()
    {
        var a = new FakeHeadlessService(Pods(7));
        var b = new FakeHeadlessService([.. Pods(7).Reverse()]);
        ConsistentHashSelector x = EndpointSelectors.ConsistentHash(a);
        ConsistentHashSelector y = EndpointSelectors.ConsistentHash(b);

        Assert.Equal(Map(x), Map(y));
        Assert.Equal(x.Pick("user-42"), y.Pick("user-42"));
        Assert.Equal(x.Pick("user-42"u8), x.Pick("user-42"u8));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(10)]
    [InlineData(100)]
    public void Keys_spread_evenly(int pods)
    {
        var service = new FakeHeadlessService(Pods(pods));
        ConsistentHashSelector selector = EndpointSelectors.ConsistentHash(service);
        Assert.Equal(ConsistentHashSelector.TableSizeFor(pods), selector.TableSize);

        Dictionary<PodEndpoint, int> counts = Map(selector).GroupBy(p => p).ToDictionary(g => g.Key, g => g.Count());
        double expected = (double)Keys / pods;
        Assert.Equal(pods, counts.Count);
        // Maglev balances table slots to within one slot per pod; key sampling adds the rest.
        Assert.All(counts.Values, c => Assert.InRange(c, expected * 0.8, expected * 1.2));
    }

    [Theory]
    [InlineData(5)]
    [InlineData(10)]
    [InlineData(50)]
    public void Removing_one_of_n_pods_moves_about_one_nth_of_the_keys(int pods)
    {
        var service = new FakeHeadlessService(Pods(pods));
        ConsistentHashSelector selector = EndpointSelectors.ConsistentHash(service, tableSize: 65_537);
        PodEndpoint[] before = Map(selector);

        PodEndpoint leaving = service.Current.Endpoints[pods / 2];
        service.Publish(Pods(pods).Where(p => p != leaving));
        PodEndpoint[] after = Map(selector);

        int moved = 0, movedFromSurvivors = 0;
        for (int k = 0; k < Keys; k++)
        {
            if (before[k] != after[k])
            {
                moved++;
                movedFromSurvivors += before[k] == leaving ? 0 : 1;
            }
        }

        double fraction = (double)moved / Keys;
        double ideal = 1.0 / pods;

        // Every key of the leaving pod must move; Maglev moves only a few more (the paper reports a small excess).
        Assert.Equal(before.Count(p => p == leaving), moved - movedFromSurvivors);
        Assert.InRange(fraction, ideal * 0.8, ideal * 1.5);
        Assert.True(movedFromSurvivors <= Keys * ideal * 0.5, $"{movedFromSurvivors} keys of surviving pods moved");
    }

    [Fact]
    public void Adding_a_pod_moves_about_one_over_n_plus_one_of_the_keys_all_to_the_new_pod_mostly()
    {
        const int N = 10;
        var service = new FakeHeadlessService(Pods(N));
        ConsistentHashSelector selector = EndpointSelectors.ConsistentHash(service, tableSize: 65_537);
        PodEndpoint[] before = Map(selector);

        service.Publish(Pods(N + 1));
        PodEndpoint added = Pod(N);
        PodEndpoint[] after = Map(selector);

        int moved = Enumerable.Range(0, Keys).Count(k => before[k] != after[k]);
        int toNew = after.Count(p => p == added);
        Assert.InRange((double)moved / Keys, 0.8 / (N + 1), 1.5 / (N + 1));
        Assert.True(toNew >= moved * 0.7, $"{toNew} of {moved} moved keys went to the new pod");
    }

    [Fact]
    public void An_unhealthy_pod_loses_its_keys_and_gets_them_back()
    {
        var service = new FakeHeadlessService();
        PodEndpoint[] pods = Pods(4);
        service.Publish(pods.Select(p => (p, EndpointHealth.Healthy, false)));
        ConsistentHashSelector selector = EndpointSelectors.ConsistentHash(service);
        PodEndpoint[] healthy = Map(selector);

        service.Publish(pods.Select(p => (p, p == pods[2] ? EndpointHealth.Unhealthy : EndpointHealth.Healthy, false)));
        Assert.DoesNotContain(pods[2], Map(selector));

        service.Publish(pods.Select(p => (p, EndpointHealth.Healthy, false)));
        Assert.Equal(healthy, Map(selector));
    }

    [Fact]
    public void Table_size_is_a_prime_proportional_to_the_pod_count_within_bounds()
    {
        Assert.Equal(257, ConsistentHashSelector.TableSizeFor(1));
        Assert.Equal(1009, ConsistentHashSelector.TableSizeFor(10));
        Assert.Equal(100_003, ConsistentHashSelector.TableSizeFor(1000));
        Assert.Equal(ConsistentHashSelector.MaxTableSize, ConsistentHashSelector.TableSizeFor(1_000_000));
        Assert.Equal(65_537, EndpointSelectors.ConsistentHash(new FakeHeadlessService(Pods(3)), tableSize: 65_536).TableSize);
        Assert.Throws<ArgumentOutOfRangeException>(() => EndpointSelectors.ConsistentHash(new FakeHeadlessService(), tableSize: 0));
    }

    [Fact]
    public void Leases_report_to_passive_health()
    {
        var service = new FakeHeadlessService(Pods(3));
        ConsistentHashSelector selector = EndpointSelectors.ConsistentHash(service);
        using (EndpointLease lease = selector.Lease("k"))
        {
            Assert.Equal(selector.Pick("k"), lease.Endpoint);
            lease.Fail();
        }

        (PodEndpoint endpoint, EndpointOutcome outcome) = Assert.Single(service.Outcomes);
        Assert.Equal(selector.Pick("k"), endpoint);
        Assert.False(outcome.Succeeded);
    }
}
