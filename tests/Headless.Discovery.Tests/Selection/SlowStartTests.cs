using CsCheck;
using Headless.Discovery.Testing;
using Headless.Discovery.TestSupport;
using Microsoft.Extensions.Time.Testing;
using static Headless.Discovery.Tests.Selection.TestPods;

namespace Headless.Discovery.Tests.Selection;

/// <summary>Slow start (#13.1): a pod that joins later ramps from the minimum weight to a full share over the window.</summary>
public sealed class SlowStartTests
{
    private const int Picks = 6000;

    public enum Kind
    {
        RoundRobin,
        Random,
        LeastRequest2,
        LeastRequest5,
    }

    private static IEndpointSelector Create(Kind kind, IHeadlessService service, SlowStartOptions options, int seed) => kind switch
    {
        // Round robin's factory takes no seed; its acceptance draws are seeded here so that a failure reproduces.
        Kind.RoundRobin => new RampingSelector(service, roundRobin: true, SlowStart.For(service, options)!, seed),
        Kind.Random => EndpointSelectors.Random(service, options, seed),
        Kind.LeastRequest2 => EndpointSelectors.LeastRequest(service, 2, slowStart: options, seed: seed),
        _ => EndpointSelectors.LeastRequest(service, 5, slowStart: options, seed: seed),
    };

    /// <summary>The ramp's weight, written out from Envoy's formula: max(min, (elapsed / window)^(1 / aggression)).</summary>
    private static double Weight(TimeSpan elapsed, SlowStartOptions o) =>
        elapsed >= o.Window ? 1 : Math.Max(o.MinWeightPercent / 100, Math.Pow(elapsed / o.Window, 1 / o.Aggression));

    private static Dictionary<PodEndpoint, int> Shares(IEndpointSelector selector, int picks)
    {
        var counts = new Dictionary<PodEndpoint, int>();
        for (int i = 0; i < picks; i++)
        {
            PodEndpoint pod = selector.Pick();
            counts[pod] = counts.GetValueOrDefault(pod) + 1;
        }

        return counts;
    }

    private static void AssertShare(double expected, int count, int picks, string what)
    {
        double share = (double)count / picks;
        double tolerance = (4.5 * Math.Sqrt(expected * (1 - expected) / picks)) + 0.004;
        Assert.True(Math.Abs(share - expected) <= tolerance, $"{what}: share {share:0.0000}, expected {expected:0.0000} ± {tolerance:0.0000}");
    }

    [Fact]
    public void The_share_of_pods_that_join_follows_the_ramp()
    {
        // Pods present at the start take full shares; each later pod joins at its own time and, at the moment measured,
        // takes weight / (sum of weights) of the picks — for every selector that ramps, any window, shape and floor.
        // With Replace, the present pods leave when the first pod joins: then every pod ramps, each from its own time.
        Gen<(Kind Kind, int Present, double[] JoinAt, double Window, double Aggression, double MinPercent, double At, int Seed, bool Replace)> cases =
            from kind in Gen.Enum<Kind>()
            from present in Gen.Int[1, 6]
            from joinAt in Gen.Double[0, 0.9].Array[1, 3]
            from window in Gen.Double[1, 300]
            from aggression in Gen.OneOf(Gen.Const(1.0), Gen.Double[0.1, 10])
            from minPercent in Gen.Double[1, 60]
            from at in Gen.Double[0, 1.3]
            from seed in Gen.Int
            from replace in Gen.Bool
            select (kind, present, joinAt, window, aggression, minPercent, at, seed, replace);

        Property.ForAll(cases, iterations: 120, seed: 0x13_01_0001UL, c =>
        {
            var clock = new FakeTimeProvider();
            var options = new SlowStartOptions { Window = TimeSpan.FromSeconds(c.Window), Aggression = c.Aggression, MinWeightPercent = c.MinPercent };
            var service = new FakeHeadlessService(timeProvider: clock);
            var pods = new List<PodEndpoint>(Pods(c.Present));
            service.Publish(pods);
            IEndpointSelector selector = Create(c.Kind, service, options, c.Seed);
            selector.Pick();

            // Joiners in time order; each is seen by a pick when it is published, which starts its ramp.
            double[] joins = [.. c.JoinAt.Order()];
            var joinedAt = new Dictionary<PodEndpoint, TimeSpan>();
            TimeSpan now = TimeSpan.Zero;
            for (int j = 0; j < joins.Length; j++)
            {
                TimeSpan at = options.Window * joins[j];
                clock.Advance(at - now);
                now = at;
                PodEndpoint joiner = Pod(100 + j);
                if (j == 0 && c.Replace)
                {
                    pods.Clear();
                }

                pods.Add(joiner);
                joinedAt[joiner] = at;
                service.Publish(pods);
                selector.Pick();
            }

            TimeSpan measured = options.Window * Math.Max(c.At, joins[^1]);
            clock.Advance(measured - now);

            Dictionary<PodEndpoint, double> weights = pods.ToDictionary(p => p, p => joinedAt.TryGetValue(p, out TimeSpan t) ? Weight(measured - t, options) : 1.0);
            double total = weights.Values.Sum();
            Dictionary<PodEndpoint, int> counts = Shares(selector, Picks);
            foreach (PodEndpoint pod in pods)
            {
                AssertShare(weights[pod] / total, counts.GetValueOrDefault(pod), Picks, $"{c.Kind} {pod} (weight {weights[pod]:0.000} of {total:0.000})");
            }
        });
    }

    [Theory]
    [InlineData(Kind.RoundRobin)]
    [InlineData(Kind.Random)]
    [InlineData(Kind.LeastRequest2)]
    [InlineData(Kind.LeastRequest5)]
    public void Pods_present_at_startup_do_not_ramp_even_when_the_selector_came_first(Kind kind)
    {
        var clock = new FakeTimeProvider();
        var service = new FakeHeadlessService(timeProvider: clock);
        IEndpointSelector selector = Create(kind, service, new SlowStartOptions { Window = TimeSpan.FromMinutes(1) }, seed: 5);
        Assert.False(selector.TryPick(out _));

        // The first snapshot with pods is the start: none of its pods ramps.
        service.Publish(Pods(4));
        clock.Advance(TimeSpan.FromSeconds(1));
        Dictionary<PodEndpoint, int> counts = Shares(selector, Picks);
        Assert.All(service.Current.Endpoints, pod => AssertShare(0.25, counts.GetValueOrDefault(pod), Picks, $"{pod}"));
    }

    [Theory]
    [InlineData(Kind.Random)]
    [InlineData(Kind.LeastRequest2)]
    public void On_the_system_clock_a_pod_that_just_joined_starts_at_the_minimum_weight(Kind kind)
    {
        // The system clock takes the millisecond tick path: a unit mix-up there would give the pod a full share at once.
        var service = new FakeHeadlessService(timeProvider: TimeProvider.System);
        service.Publish(Pods(1));
        IEndpointSelector selector = Create(kind, service, new SlowStartOptions { Window = TimeSpan.FromHours(1), MinWeightPercent = 10 }, seed: 11);
        selector.Pick();
        service.Publish(Pods(2));
        selector.Pick();

        AssertShare(0.1 / 1.1, Shares(selector, Picks).GetValueOrDefault(Pod(1)), Picks, "joined pod");
    }

    [Fact]
    public void Round_robin_rotates_exactly_again_once_the_window_has_passed()
    {
        var clock = new FakeTimeProvider();
        var service = new FakeHeadlessService(timeProvider: clock);
        service.Publish(Pods(3));
        IEndpointSelector selector = EndpointSelectors.RoundRobin(service, new SlowStartOptions { Window = TimeSpan.FromSeconds(10) });
        selector.Pick();
        service.Publish(Pods(4));
        selector.Pick();

        clock.Advance(TimeSpan.FromSeconds(10));
        PodEndpoint[] rotation = [.. Enumerable.Range(0, 4).Select(_ => selector.Pick())];
        Assert.Equal(4, rotation.Distinct().Count());
        for (int i = 0; i < 40; i++)
        {
            Assert.Same(rotation[i % 4], selector.Pick());
        }
    }

    [Theory]
    [InlineData(Kind.RoundRobin)]
    [InlineData(Kind.Random)]
    [InlineData(Kind.LeastRequest2)]
    public void A_pod_back_from_ejection_ramps_again(Kind kind)
    {
        var clock = new FakeTimeProvider();
        var service = new FakeHeadlessService(timeProvider: clock);
        PodEndpoint[] pods = Pods(3);
        service.Publish(pods);
        var options = new SlowStartOptions { Window = TimeSpan.FromSeconds(20), MinWeightPercent = 10 };
        IEndpointSelector selector = Create(kind, service, options, seed: 9);
        selector.Pick();

        service.Publish(pods.Select((p, i) => (p, EndpointHealth.Healthy, i == 0)));
        Assert.DoesNotContain(pods[0], Shares(selector, 300).Keys);
        clock.Advance(TimeSpan.FromSeconds(30));

        service.Publish(pods.Select(p => (p, EndpointHealth.Healthy, false)));
        selector.Pick();
        clock.Advance(TimeSpan.FromSeconds(5));

        // A quarter of the window: weight 0.25 against two full pods.
        AssertShare(0.25 / 2.25, Shares(selector, Picks).GetValueOrDefault(pods[0]), Picks, "returned pod");
    }

    [Fact]
    public void Under_held_leases_least_request_gives_a_ramping_pod_leases_in_proportion_to_its_weight()
    {
        var clock = new FakeTimeProvider();
        var service = new FakeHeadlessService(timeProvider: clock);
        service.Publish(Pods(3));
        IEndpointSelector selector = EndpointSelectors.LeastRequest(service, slowStart: new SlowStartOptions { Window = TimeSpan.FromSeconds(100) }, seed: 3);
        selector.Pick();
        service.Publish(Pods(4));
        selector.Pick();
        clock.Advance(TimeSpan.FromSeconds(25));

        // Weight 0.25: with every lease held, the ramping pod ends up with about a quarter of a full pod's leases.
        var leases = Enumerable.Range(0, 650).Select(_ => selector.Lease()).ToList();
        int joined = leases.Count(l => l.Endpoint == Pod(3));
        double fullAverage = (leases.Count - joined) / 3.0;
        Assert.InRange(joined / fullAverage, 0.18, 0.32);
        leases.ForEach(l => l.Dispose());
    }

    [Fact]
    public void Bad_slow_start_options_are_named_all_at_once()
    {
        var service = new FakeHeadlessService(Pods(2));
        var ex = Assert.Throws<InvalidOptionsException>(() => EndpointSelectors.RoundRobin(
            service, new SlowStartOptions { Window = TimeSpan.FromMilliseconds(5), Aggression = 0, MinWeightPercent = 0.5 }));

        Assert.Equal(["SlowStart.Window", "SlowStart.Aggression", "SlowStart.MinWeightPercent"], ex.Problems.Select(p => p.Path));
        Assert.Equal("slowStart", ex.ParamName);
    }

    [Fact]
    public void Pods_seen_at_startup_stay_at_full_weight_when_a_pod_joins_later()
    {
        // The selector's first pods are the start: half a window later a fifth pod joins and only it ramps.
        var clock = new FakeTimeProvider();
        var service = new FakeHeadlessService(timeProvider: clock);
        IEndpointSelector selector = EndpointSelectors.Random(service, new SlowStartOptions { Window = TimeSpan.FromSeconds(100), MinWeightPercent = 10 }, seed: 21);
        Assert.False(selector.TryPick(out _));
        service.Publish(Pods(4));
        selector.Pick();
        clock.Advance(TimeSpan.FromSeconds(50));
        service.Publish(Pods(5));
        selector.Pick();

        Dictionary<PodEndpoint, int> counts = Shares(selector, Picks);
        Assert.All(Pods(4), pod => AssertShare(1 / 4.1, counts.GetValueOrDefault(pod), Picks, $"{pod}"));
        AssertShare(0.1 / 4.1, counts.GetValueOrDefault(Pod(4)), Picks, "joined pod");
    }

    [Fact]
    public void While_a_pod_ramps_round_robin_still_rotates_exactly_over_the_pods_at_full_weight()
    {
        var clock = new FakeTimeProvider();
        var service = new FakeHeadlessService(timeProvider: clock);
        service.Publish(Pods(3));
        IEndpointSelector selector = Create(Kind.RoundRobin, service, new SlowStartOptions { Window = TimeSpan.FromMinutes(10) }, seed: 4);
        selector.Pick();
        service.Publish(Pods(4));
        selector.Pick();
        clock.Advance(TimeSpan.FromMinutes(1));

        PodEndpoint[] full = [.. Enumerable.Range(0, 300).Select(_ => selector.Pick()).Where(p => p != Pod(3))];
        for (int i = 3; i < full.Length; i++)
        {
            Assert.Same(full[i - 3], full[i]);
        }

        Assert.Equal(3, full.Distinct().Count());
    }

    [Theory]
    [InlineData(Kind.RoundRobin)]
    [InlineData(Kind.Random)]
    [InlineData(Kind.LeastRequest2)]
    public void When_most_draws_fall_on_barely_ramped_pods_the_exact_pass_keeps_the_shares(Kind kind)
    {
        // One full pod and 30 pods that just joined at 1 %: a draw stands about once in 24, so many picks give up
        // on drawing and take the one exact weighted pass.
        var clock = new FakeTimeProvider();
        var service = new FakeHeadlessService(timeProvider: clock);
        service.Publish(Pods(1));
        IEndpointSelector selector = Create(kind, service, new SlowStartOptions { Window = TimeSpan.FromHours(1), MinWeightPercent = 1 }, seed: 8);
        selector.Pick();
        service.Publish(Pods(31));
        selector.Pick();

        Dictionary<PodEndpoint, int> counts = Shares(selector, Picks);
        AssertShare(1 / 1.3, counts.GetValueOrDefault(Pod(0)), Picks, "the full pod");
        AssertShare(0.3 / 1.3, Picks - counts.GetValueOrDefault(Pod(0)), Picks, "the 30 ramping pods together");
    }

    [Fact]
    public void With_a_lease_limit_a_ramping_least_request_finds_the_one_pod_with_room_and_fails_naming_the_limit_when_none_has()
    {
        var clock = new FakeTimeProvider();
        var service = new FakeHeadlessService(timeProvider: clock);
        service.Publish(Pods(4));
        IEndpointSelector selector = EndpointSelectors.LeastRequest(service, 2, maxLeasesPerPod: 2, new SlowStartOptions { Window = TimeSpan.FromHours(1) }, seed: 5);
        selector.Pick();
        service.Publish(Pods(5));
        selector.Pick();

        // Every pod but the ramping one at its limit: draws land mostly on full pods, a scan finds the ramping one.
        var leases = new List<EndpointLease>();
        while (leases.Count(l => l.Endpoint != Pod(4)) < 8)
        {
            leases.Add(selector.Lease());
        }

        leases.Where(l => l.Endpoint == Pod(4)).ToList().ForEach(l => { l.Dispose(); leases.Remove(l); });
        for (int i = 0; i < 50; i++)
        {
            Assert.True(selector.TryPick(out PodEndpoint? pod));
            Assert.Equal(Pod(4), pod);
        }

        leases.Add(selector.Lease());
        leases.Add(selector.Lease());
        Assert.False(selector.TryPick(out _));
        Assert.False(selector.TryLease(out _));
        Assert.Contains("2 outstanding lease(s), the per-pod limit", Assert.Throws<NoEndpointAvailableException>(() => selector.Pick()).Message, StringComparison.Ordinal);
        leases.ForEach(l => l.Dispose());
    }

    [Fact]
    public void On_the_system_clock_the_window_is_counted_in_the_milliseconds_the_ramp_reads()
    {
        var service = new FakeHeadlessService(timeProvider: TimeProvider.System);
        SlowStart ramp = SlowStart.For(service, new SlowStartOptions { Window = TimeSpan.FromHours(1) })!;
        Assert.Equal(3_600_000, ramp.End(0));
        Assert.InRange(ramp.Now(), Environment.TickCount64 - 1000, Environment.TickCount64);
    }

    [Fact]
    public void A_slow_start_selector_allocates_nothing_per_pick_while_a_pod_ramps()
    {
        var clock = new FakeTimeProvider();
        var service = new FakeHeadlessService(timeProvider: clock);
        service.Publish(Pods(3));
        var options = new SlowStartOptions { Window = TimeSpan.FromMinutes(1) };
        IEndpointSelector[] selectors =
        [
            EndpointSelectors.RoundRobin(service, options),
            EndpointSelectors.Random(service, options),
            EndpointSelectors.LeastRequest(service, slowStart: options),
        ];
        Array.ForEach(selectors, s => s.Pick());
        service.Publish(Pods(4));
        clock.Advance(TimeSpan.FromSeconds(1));
        foreach (IEndpointSelector selector in selectors)
        {
            selector.Pick();
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 1000; i++)
            {
                selector.Pick();
                selector.Lease().Dispose();
            }

            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }
    }
}
