using Headless.Discovery;
using static Headless.Discovery.Tests.Selection.FakeHeadlessService;

namespace Headless.Discovery.Tests.Selection;

public sealed class PickFirstAndSubsetTests
{
    [Fact]
    public void Pick_first_sticks_until_the_pod_leaves()
    {
        var service = new FakeHeadlessService(Pods(5));
        IEndpointSelector selector = EndpointSelectors.PickFirst(service, seed: 5);
        PodEndpoint first = selector.Pick();
        Assert.All(Enumerable.Range(0, 100), _ => Assert.Equal(first, selector.Pick()));

        // Membership churn that keeps the pod keeps the choice.
        service.Publish(Pods(8));
        Assert.Equal(first, selector.Pick());

        service.Publish(Pods(8).Where(p => p != first));
        PodEndpoint second = selector.Pick();
        Assert.NotEqual(first, second);
        Assert.All(Enumerable.Range(0, 100), _ => Assert.Same(second, selector.Pick()));
    }

    [Fact]
    public void Pick_first_moves_on_a_failed_lease_or_an_unhealthy_pod_but_not_on_success()
    {
        var service = new FakeHeadlessService();
        PodEndpoint[] pods = Pods(3);
        service.Publish(pods.Select(p => (p, EndpointHealth.Healthy, false)));
        IEndpointSelector selector = EndpointSelectors.PickFirst(service, seed: 1);
        PodEndpoint first = selector.Pick();

        using (EndpointLease ok = selector.Lease())
        {
            ok.Succeed();
        }

        Assert.Equal(first, selector.Pick());

        using (EndpointLease failed = selector.Lease())
        {
            failed.Fail();
        }

        PodEndpoint second = selector.Pick();
        Assert.NotEqual(first, second);
        Assert.Equal(2, service.Outcomes.Count);

        service.Publish(pods.Select(p => (p, p == second ? EndpointHealth.Unhealthy : EndpointHealth.Healthy, false)));
        PodEndpoint third = selector.Pick();
        Assert.NotEqual(second, third);
    }

    [Fact]
    public void Pick_first_spreads_clients_over_pods()
    {
        var service = new FakeHeadlessService(Pods(4));
        int distinct = Enumerable.Range(0, 64).Select(seed => EndpointSelectors.PickFirst(service, seed).Pick()).Distinct().Count();
        Assert.True(distinct >= 3, $"64 clients stuck to only {distinct} pod(s)");
    }

    [Fact]
    public void Pick_first_spreads_clients_created_before_the_first_resolution()
    {
        // The usual order: selectors are created at startup, before DNS has answered.
        var service = new FakeHeadlessService();
        IEndpointSelector[] clients = [.. Enumerable.Range(0, 64).Select(seed => EndpointSelectors.PickFirst(service, seed))];

        service.Publish(Pods(4));
        int distinct = clients.Select(c => c.Pick()).Distinct().Count();
        Assert.True(distinct >= 3, $"64 clients stuck to only {distinct} pod(s)");
    }

    [Fact]
    public void Subset_is_stable_sized_and_round_robin_within()
    {
        var service = new FakeHeadlessService(Pods(100));
        var a = (SubsetSelector)EndpointSelectors.Subset(service, 5, "client-a");
        var again = (SubsetSelector)EndpointSelectors.Subset(new FakeHeadlessService([.. Pods(100).Reverse()]), 5, "client-a");
        var b = (SubsetSelector)EndpointSelectors.Subset(service, 5, "client-b");

        Assert.Equal(5, a.CurrentSubset.Length);
        Assert.Equal(a.CurrentSubset, again.CurrentSubset);
        Assert.NotEqual(a.CurrentSubset, b.CurrentSubset);

        PodEndpoint[] picks = [.. Enumerable.Range(0, 50).Select(_ => a.Pick())];
        Assert.All(a.CurrentSubset, pod => Assert.Equal(10, picks.Count(p => p == pod)));
    }

    [Fact]
    public void Subsets_spread_evenly_over_the_pods()
    {
        const int Clients = 2_000, PodCount = 50, Size = 5;
        var service = new FakeHeadlessService(Pods(PodCount));
        var load = new Dictionary<PodEndpoint, int>();
        for (int c = 0; c < Clients; c++)
        {
            foreach (PodEndpoint pod in ((SubsetSelector)EndpointSelectors.Subset(service, Size, $"client-{c}")).CurrentSubset)
            {
                load[pod] = load.GetValueOrDefault(pod) + 1;
            }
        }

        // Expected 200 clients per pod; binomial sigma ~13.8, so +-35 % is over 5 sigma.
        Assert.Equal(PodCount, load.Count);
        Assert.All(load.Values, n => Assert.InRange(n, 130, 270));
    }

    [Fact]
    public void Churn_of_one_pod_changes_at_most_one_member_of_each_subset()
    {
        const int Clients = 1_000, PodCount = 40, Size = 4;
        var service = new FakeHeadlessService(Pods(PodCount));
        SubsetSelector[] clients = [.. Enumerable.Range(0, Clients).Select(c => (SubsetSelector)EndpointSelectors.Subset(service, Size, $"c{c}"))];
        PodEndpoint[][] before = [.. clients.Select(c => c.CurrentSubset)];

        PodEndpoint leaving = Pod(17);
        service.Publish(Pods(PodCount + 1).Where(p => p != leaving));
        int changed = 0;
        for (int c = 0; c < Clients; c++)
        {
            PodEndpoint[] after = clients[c].CurrentSubset;
            int differences = before[c].Except(after).Count();
            Assert.InRange(differences, 0, 2);
            if (!before[c].Contains(leaving))
            {
                // Only the newcomer can displace a member of a subset that did not hold the leaving pod.
                Assert.All(after.Except(before[c]), p => Assert.Equal(Pod(PodCount), p));
            }

            changed += differences > 0 ? 1 : 0;
        }

        // About Size/N of clients held the leaving pod, and about Size/(N+1) rank the newcomer in their top k.
        Assert.InRange(changed, 0, Clients * 2 * Size / PodCount * 1.6);
    }
}
