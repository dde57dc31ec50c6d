using Headless.Discovery.Testing;
using CsCheck;
using Headless.Discovery;
using Headless.Discovery.TestSupport;
using static Headless.Discovery.Tests.Selection.TestPods;

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
            ok.Complete(true);
        }

        Assert.Equal(first, selector.Pick());

        using (EndpointLease failed = selector.Lease())
        {
            failed.Complete(false);
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
    public void Pick_first_moves_to_the_next_pod_in_snapshot_order_on_each_failure_wrapping_around()
    {
        var service = new FakeHeadlessService(Pods(5));
        IEndpointSelector selector = EndpointSelectors.PickFirst(service, seed: 3);
        PodEndpoint[] pods = [.. service.Current.Endpoints];
        int at = Array.IndexOf(pods, selector.Pick());

        for (int step = 1; step <= 7; step++)
        {
            EndpointLease lease = selector.Lease();
            lease.Complete(false);
            Assert.Equal(pods[(at + step) % pods.Length], selector.Pick());
        }
    }

    [Fact]
    public void Pick_first_moves_on_from_where_a_departed_pod_was()
    {
        // Pods 0..4; the sticky pod leaves, its successor takes over, and a failure then moves one further.
        var service = new FakeHeadlessService(Pods(5));
        IEndpointSelector selector = EndpointSelectors.PickFirst(service, seed: 3);
        PodEndpoint[] pods = [.. service.Current.Endpoints];
        while (selector.Pick() != pods[2])
        {
            selector.Lease().Complete(false);
        }

        service.Publish(pods.Where(p => p != pods[2]));
        Assert.Equal(pods[3], selector.Pick());

        selector.Lease().Complete(false);
        Assert.Equal(pods[4], selector.Pick());
    }

    [Fact]
    public void Pick_first_ignores_a_failure_on_a_pod_it_already_left()
    {
        var service = new FakeHeadlessService(Pods(4));
        IEndpointSelector selector = EndpointSelectors.PickFirst(service, seed: 2);
        EndpointLease older = selector.Lease();
        EndpointLease failing = selector.Lease();
        failing.Complete(false);
        PodEndpoint second = selector.Pick();
        Assert.NotEqual(older.Endpoint, second);

        // A call that started on the first pod fails late: the selector already moved and stays.
        older.Complete(false);
        Assert.Equal(second, selector.Pick());
    }

    [Fact]
    public void Pick_first_resumes_where_it_was_when_every_pod_left_and_came_back()
    {
        var service = new FakeHeadlessService(Pods(3));
        IEndpointSelector selector = EndpointSelectors.PickFirst(service, seed: 1);
        PodEndpoint[] pods = [.. service.Current.Endpoints];
        Assert.NotEqual(pods[0], selector.Pick());
        while (selector.Pick() != pods[0])
        {
            selector.Lease().Complete(false);
        }

        service.Publish([]);
        Assert.False(selector.TryPick(out _));
        Assert.False(selector.TryLease(out EndpointLease none));
        Assert.Null(none.Endpoint);
        Assert.Equal(default, none);

        service.Publish(pods);
        Assert.Equal(pods[0], selector.Pick());
    }

    [Fact]
    public async Task Pick_first_picks_never_wait_for_a_failure_being_handled()
    {
        // Picks take no lock: while one thread moves the selector off a failed pod (holding its lock, stopped here
        // inside it), another thread's pick still returns at once.
        var service = new FakeHeadlessService(Pods(3));
        IEndpointSelector selector = EndpointSelectors.PickFirst(service, seed: 1);
        PodEndpoint first = selector.Pick();
        EndpointLease lease = selector.Lease();
        using var inside = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var failing = new Thread(() => lease.Complete(false));
        service.CurrentRead += () =>
        {
            if (Thread.CurrentThread == failing)
            {
                inside.Set();
                release.Wait();
            }
        };

        failing.Start();
        try
        {
            Assert.True(inside.Wait(TimeSpan.FromSeconds(30)), "the failing lease never reached the selector");
            // Times out (and fails) if the pick waits for the lock.
            Assert.Equal(first, await Task.Run(selector.Pick).WaitAsync(TimeSpan.FromSeconds(10)));
        }
        finally
        {
            release.Set();
            failing.Join();
        }

        Assert.NotEqual(first, selector.Pick());
    }

    [Fact]
    public void Subset_is_stable_sized_and_round_robin_within()
    {
        var service = new FakeHeadlessService(Pods(100));
        var reversed = new FakeHeadlessService([.. Pods(100).Reverse()]);
        IEndpointSelector a = EndpointSelectors.Subset(service, 5, "client-a");
        IEndpointSelector again = EndpointSelectors.Subset(reversed, 5, "client-a");
        IEndpointSelector b = EndpointSelectors.Subset(service, 5, "client-b");

        PodEndpoint[] subset = SubsetOf(a, service, 5);
        Assert.Equal(5, subset.Length);
        Assert.Equal(subset, SubsetOf(again, reversed, 5));
        Assert.NotEqual(subset, SubsetOf(b, service, 5));

        // Round robin within: 50 picks are 10 turns over the same five pods.
        PodEndpoint[] picks = [.. Enumerable.Range(0, 50).Select(_ => a.Pick())];
        Assert.All(subset, pod => Assert.Equal(10, picks.Count(p => p == pod)));
    }

    /// <summary>
    /// The subset a selector talks to, in snapshot order, as its picks show it: a subset selector goes round robin over
    /// its subset, so <paramref name="size"/> picks on one thread make a full turn over its (at most size) pods.
    /// </summary>
    private static PodEndpoint[] SubsetOf(IEndpointSelector selector, IHeadlessService service, int size)
    {
        HashSet<PodEndpoint> picked = [.. Enumerable.Range(0, size).Select(_ => selector.Pick())];
        return [.. service.Current.Available.Where(picked.Contains)];
    }

    [Fact]
    public void The_subset_is_the_top_k_available_pods_by_rendezvous_score_in_snapshot_order()
    {
        // The rule every client (and every version) applies: score each pod by hashing the client id with the pod's
        // identity, keep the k highest, use them in snapshot order. With k or fewer pods available, all of them.
        Gen<(PodEndpoint[] Pods, int Size, string ClientId)> cases =
            from n in Gen.Int[1, 40]
            from pods in PodGen.Pods(n)
            from size in Gen.Int[1, 45]
            from clientId in Gen.String[1, 20]
            select (pods, size, clientId);

        Property.ForAll(
            cases,
            iterations: 300,
            seed: 0x10_05_0005UL,
            c =>
            {
                var service = new FakeHeadlessService(c.Pods);
                IEndpointSelector selector = EndpointSelectors.Subset(service, c.Size, c.ClientId);
                PodEndpoint[] available = [.. service.Current.Available];
                ulong client = StableHash.Hash(c.ClientId.AsSpan());
                HashSet<PodEndpoint> top = [.. available.OrderByDescending(p => StableHash.Combine(client, StableHash.Of(p))).Take(c.Size)];

                Assert.Equal(available.Where(top.Contains), SubsetOf(selector, service, c.Size));
            },
            print: c => $"{c.Pods.Length} pods, k = {c.Size}, client \"{c.ClientId}\"");
    }

    [Fact]
    public void Subsets_spread_evenly_over_the_pods()
    {
        const int Clients = 2_000, PodCount = 50, Size = 5;
        var service = new FakeHeadlessService(Pods(PodCount));
        var load = new Dictionary<PodEndpoint, int>();
        for (int c = 0; c < Clients; c++)
        {
            foreach (PodEndpoint pod in SubsetOf(EndpointSelectors.Subset(service, Size, $"client-{c}"), service, Size))
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
        IEndpointSelector[] clients = [.. Enumerable.Range(0, Clients).Select(c => EndpointSelectors.Subset(service, Size, $"c{c}"))];
        PodEndpoint[][] before = [.. clients.Select(c => SubsetOf(c, service, Size))];

        PodEndpoint leaving = Pod(17);
        service.Publish(Pods(PodCount + 1).Where(p => p != leaving));
        int changed = 0;
        for (int c = 0; c < Clients; c++)
        {
            PodEndpoint[] after = SubsetOf(clients[c], service, Size);
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
