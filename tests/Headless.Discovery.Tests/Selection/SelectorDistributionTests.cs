using CsCheck;
using Headless.Discovery.TestSupport;
using Headless.Discovery.Testing;
using Headless.Discovery;
using static Headless.Discovery.Tests.Selection.TestPods;

namespace Headless.Discovery.Tests.Selection;

public sealed class SelectorDistributionTests
{
    [Fact]
    public void Round_robin_is_an_exact_rotation_on_one_thread()
    {
        var service = new FakeHeadlessService(Pods(3));
        IEndpointSelector selector = EndpointSelectors.RoundRobin(service);

        PodEndpoint[] picks = [.. Enumerable.Range(0, 300).Select(_ => selector.Pick())];

        Assert.All(service.Current.Endpoints, pod => Assert.Equal(100, picks.Count(p => p == pod)));
        for (int i = 1; i < picks.Length; i++)
        {
            // Forward, in snapshot order: the pod after the previous one.
            Assert.Equal((service.Current.Endpoints.IndexOf(picks[i - 1]) + 1) % 3, service.Current.Endpoints.IndexOf(picks[i]));
        }
    }

    [Fact]
    public void Round_robin_follows_a_shrinking_and_growing_set()
    {
        var service = new FakeHeadlessService(Pods(5));
        IEndpointSelector selector = EndpointSelectors.RoundRobin(service);
        _ = Enumerable.Range(0, 4).Select(_ => selector.Pick()).ToArray();

        service.Publish(Pods(2));
        PodEndpoint[] two = [.. Enumerable.Range(0, 10).Select(_ => selector.Pick())];
        Assert.All(service.Current.Endpoints, pod => Assert.Equal(5, two.Count(p => p == pod)));

        service.Publish(Pods(7));
        PodEndpoint[] seven = [.. Enumerable.Range(0, 70).Select(_ => selector.Pick())];
        Assert.All(service.Current.Endpoints, pod => Assert.Equal(10, seven.Count(p => p == pod)));
    }

    [Fact]
    public void Round_robin_wraps_to_the_first_pod_when_the_set_shrinks_to_exactly_the_pods_before_its_position()
    {
        // Over n pods, pick until pod m - 1 was taken (the position is now m), then shrink the set to its first m pods:
        // the position is past the end, and the rotation goes on from the first pod.
        Gen<(int Pods, int Kept)> cases = Gen.Int[2, 30].SelectMany(n => Gen.Int[1, n - 1].Select(m => (n, m)));

        Property.ForAll(cases, iterations: 100, seed: 0x13_07_0003UL, (n, m) =>
        {
            var service = new FakeHeadlessService(Pods(n));
            IEndpointSelector selector = EndpointSelectors.RoundRobin(service);
            int taken = -1;
            for (int i = 0; i < n && taken != m - 1; i++)
            {
                taken = service.Current.Endpoints.IndexOf(selector.Pick());
            }

            Assert.Equal(m - 1, taken);

            service.Publish(Pods(m));

            Assert.Equal(service.Current.Endpoints[0], selector.Pick());
            Assert.Equal(service.Current.Endpoints[1 % m], selector.Pick());
        });
    }

    [Fact]
    public void Consecutive_round_robin_picks_from_one_caller_rotate_exactly_whichever_thread_each_runs_on()
    {
        // One caller whose picks hop threads, as async continuations do: each pick runs on a fresh thread, on a pool
        // thread after a yield, or inline. Nobody else picks, so every pick must take the next pod in the rotation.
        Gen<(int Pods, int[] Hops)> cases =
            from n in Gen.Int[1, 30]
            from hops in Gen.Int[0, 2].Array[1, 40]
            select (n, hops);

        Property.ForAll(cases, iterations: 60, seed: 0x13_07_0001UL, (n, hops) =>
        {
            var service = new FakeHeadlessService(Pods(n));
            IEndpointSelector selector = EndpointSelectors.RoundRobin(service);
            int[] picked = [.. hops.Select(hop => service.Current.Endpoints.IndexOf(PickOn(hop, selector)))];

            for (int i = 1; i < picked.Length; i++)
            {
                Assert.True(picked[i] == (picked[i - 1] + 1) % n, $"pick {i} took pod {picked[i]} after pod {picked[i - 1]} of {n}: {string.Join(" ", picked)}");
            }
        });
    }

    [Fact]
    public void Round_robin_callers_picking_at_the_same_moment_spread_their_picks_evenly_over_the_pods()
    {
        // Concurrent callers may read the same position and take the same pod (no locked instruction on the pick
        // path), but over time each pod still takes its share: within 20 % of the mean over thousands of picks.
        Gen<(int Pods, int Threads)> cases = Gen.Select(Gen.Int[1, 12], Gen.Int[2, 4]);

        Property.ForAll(cases, iterations: 20, seed: 0x13_07_0002UL, (n, threads) =>
        {
            const int picksPerThread = 20_000;
            var service = new FakeHeadlessService(Pods(n));
            IEndpointSelector selector = EndpointSelectors.RoundRobin(service);
            using var start = new Barrier(threads);
            var counts = new int[threads][];

            Thread[] callers = [.. Enumerable.Range(0, threads).Select(t => new Thread(() =>
            {
                var mine = new int[n];
                start.SignalAndWait(Generous);
                for (int i = 0; i < picksPerThread; i++)
                {
                    mine[service.Current.Endpoints.IndexOf(selector.Pick())]++;
                }

                counts[t] = mine;
            }))];
            Array.ForEach(callers, c => c.Start());
            Assert.All(callers, c => Assert.True(c.Join(Generous)));

            double mean = (double)picksPerThread * threads / n;
            int[] perPod = [.. Enumerable.Range(0, n).Select(pod => counts.Sum(c => c[pod]))];
            Assert.True(perPod.All(c => Math.Abs(c - mean) <= 0.2 * mean), $"{threads} callers over {n} pods: {string.Join(" ", perPod)} (mean {mean:F0})");
        });
    }

    private static PodEndpoint PickOn(int hop, IEndpointSelector selector)
    {
        switch (hop)
        {
            case 0:
                return selector.Pick();
            case 1:
                return Task.Run(async () =>
                {
                    await Task.Yield();
                    return selector.Pick();
                }).WaitAsync(Generous).GetAwaiter().GetResult();
            default:
                PodEndpoint? endpoint = null;
                var thread = new Thread(() => endpoint = selector.Pick());
                thread.Start();
                Assert.True(thread.Join(Generous));
                return endpoint!;
        }
    }

    [Fact]
    public void Round_robin_selectors_open_on_different_pods_so_clients_do_not_all_start_on_the_first()
    {
        // Many clients (processes, or selectors in one) start together: each opens at a random pod, not at pod 0.
        var service = new FakeHeadlessService(Pods(1000));
        int[] opened = [.. Enumerable.Range(0, 16).Select(_ => service.Current.Endpoints.IndexOf(EndpointSelectors.RoundRobin(service).Pick()))];

        Assert.True(opened.Distinct().Count() >= 12, $"16 selectors opened on only {opened.Distinct().Count()} pods: {string.Join(", ", opened)}");
        Assert.True(opened.Any(i => i >= 16), $"every selector opened on one of the first 16 pods: {string.Join(", ", opened)}");
    }

    [Fact]
    public void Random_is_uniform_within_statistical_bounds_and_reproducible_with_a_seed()
    {
        const int Picks = 100_000;
        var service = new FakeHeadlessService(Pods(10));
        IEndpointSelector selector = EndpointSelectors.Random(service, seed: 42);

        var counts = Count(selector, Picks);

        // Expected 10 000 each, sigma ~95: 5 sigma is ~475.
        Assert.All(service.Current.Endpoints, pod => Assert.InRange(counts.GetValueOrDefault(pod), 9_500, 10_500));
        Assert.True(ChiSquare(counts.Values, Picks / 10.0) < 27.9, "chi-square (9 dof) beyond p = 0.001");

        IEndpointSelector again = EndpointSelectors.Random(service, seed: 42);
        IEndpointSelector first = EndpointSelectors.Random(service, seed: 42);
        Assert.Equal(Enumerable.Range(0, 50).Select(_ => first.Pick()), Enumerable.Range(0, 50).Select(_ => again.Pick()));
    }

    [Fact]
    public void Random_without_a_seed_covers_every_pod()
    {
        var service = new FakeHeadlessService(Pods(4));
        var counts = Count(EndpointSelectors.Random(service), 40_000);
        Assert.All(service.Current.Endpoints, pod => Assert.InRange(counts.GetValueOrDefault(pod), 9_000, 11_000));
    }

    [Fact]
    public void Power_of_two_choices_is_uniform_when_idle()
    {
        const int Picks = 100_000;
        var service = new FakeHeadlessService(Pods(10));
        var counts = Count(EndpointSelectors.LeastRequest(service, seed: 7), Picks);
        Assert.All(service.Current.Endpoints, pod => Assert.InRange(counts.GetValueOrDefault(pod), 9_500, 10_500));
    }

    [Fact]
    public void Power_of_two_choices_never_picks_the_busiest_pod_and_balances_held_leases()
    {
        var service = new FakeHeadlessService(Pods(10));
        IEndpointSelector selector = EndpointSelectors.LeastRequest(service, seed: 3);
        var busy = new List<EndpointLease>();
        for (int i = 0; i < 5; i++)
        {
            // Load pod 0 first with leases from a selector of its own, so it is the strict maximum.
            busy.Add(new EndpointLease(service, service.Current.Endpoints[0], null));
        }

        var held = new List<EndpointLease>();
        for (int i = 0; i < 1_000; i++)
        {
            held.Add(selector.Lease());
        }

        int[] outstanding = [.. service.Current.Endpoints.Select(pod => held.Count(l => l.Endpoint == pod))];
        Assert.Equal(1_000, outstanding.Sum());

        // With leases held, P2C keeps every pod within a small gap of the others (the classic O(log log n) bound).
        Assert.True(outstanding.Max() - outstanding.Min() <= 4, string.Join(",", outstanding));

        // The selector weighs exactly the held leases: plain picks land on each pod at the rate its rank gives.
        AssertPicksFollow(selector, service, outstanding);

        for (int i = 0; i < held.Count; i++)
        {
            EndpointLease lease = held[i];
            lease.Dispose();
        }

        // Every count is back to zero: a newcomer (zero by construction) ties with every pod.
        service.Publish(Pods(11));
        AssertPicksFollow(selector, service, new int[11]);
    }

    /// <summary>
    /// Plain picks of a power-of-two-choices selector over <paramref name="service"/>'s pods land on each pod at the rate
    /// the outstanding counts <paramref name="outstanding"/> (aligned with the snapshot) give: of the ordered pairs (a, b)
    /// of distinct pods, b wins when it has fewer outstanding leases, else a. A pod busier than every other is never picked.
    /// </summary>
    private static void AssertPicksFollow(IEndpointSelector selector, IHeadlessService service, int[] outstanding)
    {
        const int Picks = 100_000;
        int n = outstanding.Length;
        Dictionary<PodEndpoint, int> counts = Count(selector, Picks);
        for (int i = 0; i < n; i++)
        {
            int asFirst = outstanding.Where((c, j) => j != i && c >= outstanding[i]).Count();
            int asSecond = outstanding.Count(c => c > outstanding[i]);
            double expected = Picks * (asFirst + asSecond) / (double)(n * (n - 1));
            // One rank off moves a pod's count by Picks / (n (n - 1)), over 900 for up to 11 pods; 400 is over 4 sigma.
            double slack = expected == 0 ? 0 : 400;
            Assert.InRange(counts.GetValueOrDefault(service.Current.Endpoints[i]), expected - slack, expected + slack);
        }
    }

    /// <summary>The distinct pods of <paramref name="picks"/> plain picks.</summary>
    internal static HashSet<PodEndpoint> Picked(IEndpointSelector selector, int picks = 200) =>
        [.. Enumerable.Range(0, picks).Select(_ => selector.Pick())];

    [Fact]
    public void Power_of_two_choices_avoids_a_pod_with_more_outstanding_work()
    {
        var service = new FakeHeadlessService(Pods(3));
        IEndpointSelector selector = EndpointSelectors.LeastRequest(service, seed: 11);
        PodEndpoint slow = service.Current.Endpoints[1];

        // Hold leases only on the slow pod; release the others at once.
        var held = new List<EndpointLease>();
        for (int i = 0; i < 3_000; i++)
        {
            EndpointLease lease = selector.Lease();
            if (lease.Endpoint == slow)
            {
                held.Add(lease);
            }
            else
            {
                lease.Complete(true);
            }
        }

        // Once the slow pod has one outstanding lease it loses every comparison against an idle pod: exactly one lease there.
        EndpointLease one = Assert.Single(held);

        // That lease still weighs: the slow pod loses every comparison; the idle pods tie and share the picks.
        AssertPicksFollow(selector, service, [.. service.Current.Endpoints.Select(p => p == slow ? 1 : 0)]);
        // Released, it is exactly as idle as a newcomer (zero by construction): the picks are even again.
        one.Dispose();
        service.Publish(Pods(4));
        AssertPicksFollow(selector, service, new int[4]);
    }

    [Fact]
    public void Outstanding_counts_survive_a_refresh_that_keeps_the_pod()
    {
        var service = new FakeHeadlessService(Pods(2));
        IEndpointSelector selector = EndpointSelectors.LeastRequest(service, seed: 1);
        EndpointLease lease = selector.Lease();
        PodEndpoint pod = lease.Endpoint;

        // After the refresh the pod still counts its lease: it loses to both idle pods (one of them new).
        service.Publish(Pods(3));
        AssertPicksFollow(selector, service, [.. service.Current.Endpoints.Select(p => p == pod ? 1 : 0)]);

        // Released on the counter that survived: it ties with the newcomer again.
        lease.Dispose();
        AssertPicksFollow(selector, service, new int[3]);
    }

    internal static Dictionary<PodEndpoint, int> Count(IEndpointSelector selector, int picks)
    {
        var counts = new Dictionary<PodEndpoint, int>();
        for (int i = 0; i < picks; i++)
        {
            PodEndpoint pod = selector.Pick();
            counts[pod] = counts.GetValueOrDefault(pod) + 1;
        }

        return counts;
    }

    private static double ChiSquare(IEnumerable<int> observed, double expected) =>
        observed.Sum(o => (o - expected) * (o - expected) / expected);
}
