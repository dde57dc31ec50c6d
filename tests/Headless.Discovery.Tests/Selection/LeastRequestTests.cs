using System.Diagnostics.Metrics;
using CsCheck;
using Headless.Discovery.Testing;
using Headless.Discovery.TestSupport;
using static Headless.Discovery.Tests.Selection.TestPods;

namespace Headless.Discovery.Tests.Selection;

/// <summary>Least request with a choice count (#13.3) and the per-pod lease limit (#13.4).</summary>
public sealed class LeastRequestTests
{
    [Fact]
    public void With_as_many_choices_as_pods_every_lease_goes_to_a_least_loaded_pod()
    {
        // n <= k: every pod is compared, so a lease lands on a pod with the fewest leases, whatever was leased and
        // released before — with two pods it never takes the busier one (envoy#11004: P2C choosing one pod twice).
        Gen<(int Pods, int Choices, int[] Ops)> cases =
            from n in Gen.Int[1, 12]
            from k in Gen.Int[Math.Max(2, n), 16]
            from ops in Gen.Int[0, 99].Array[1, 80]
            select (n, k, ops);

        Property.ForAll(cases, iterations: 200, seed: 0x13_03_0001UL, c =>
        {
            var service = new FakeHeadlessService(Pods(c.Pods));
            IEndpointSelector selector = EndpointSelectors.LeastRequest(service, c.Choices, seed: c.Ops.Length);
            PodEndpoint[] pods = [.. service.Current.Endpoints];
            int[] held = new int[c.Pods];
            var leases = new List<EndpointLease>();
            foreach (int op in c.Ops)
            {
                // Two leases for each release, so that loads build up and differ.
                if (op % 3 != 0 || leases.Count == 0)
                {
                    EndpointLease lease = selector.Lease();
                    int i = Array.IndexOf(pods, lease.Endpoint);
                    Assert.True(held[i] == held.Min(), $"leased pod {i} holding {held[i]} while another held {held.Min()}: [{string.Join(",", held)}]");
                    held[i]++;
                    leases.Add(lease);
                }
                else
                {
                    EndpointLease lease = leases[(op / 3) % leases.Count];
                    leases.Remove(lease);
                    held[Array.IndexOf(pods, lease.Endpoint)]--;
                    lease.Dispose();
                }
            }
        });
    }

    [Fact]
    public void With_more_pods_than_choices_a_pick_compares_a_sample_not_every_pod()
    {
        // Envoy's least request: k random pods, not the global least. 19 pods hold a lease, one holds none; a sample
        // of three includes the idle pod with probability 1 - (19/20)^3 = 14.3 %, so that is about its share.
        var service = new FakeHeadlessService(Pods(20));
        IEndpointSelector selector = EndpointSelectors.LeastRequest(service, choiceCount: 3, seed: 23);
        PodEndpoint idle = service.Current.Endpoints[19];
        var leases = service.Current.Endpoints.Take(19).Select(pod =>
        {
            EndpointLease lease;
            while (!(lease = selector.Lease()).Endpoint.Equals(pod))
            {
                lease.Dispose();
            }

            return lease;
        }).ToList();

        int picks = 4000;
        int idlePicks = Enumerable.Range(0, picks).Count(_ => selector.Pick().Equals(idle));
        Assert.InRange((double)idlePicks / picks, 0.143 - 0.03, 0.143 + 0.03);
        leases.ForEach(l => l.Dispose());
    }

    [Fact]
    public void When_both_drawn_pods_are_full_a_pick_takes_the_one_pod_with_room()
    {
        // Five pods, four at their limit: two random choices mostly draw full pods; the pick must still find the fifth.
        var service = new FakeHeadlessService(Pods(5));
        IEndpointSelector selector = EndpointSelectors.LeastRequest(service, 2, maxLeasesPerPod: 1, seed: 17);
        var leases = Enumerable.Range(0, 5).Select(_ => selector.Lease()).ToList();
        EndpointLease freed = leases[2];
        freed.Dispose();
        for (int i = 0; i < 60; i++)
        {
            Assert.True(selector.TryPick(out PodEndpoint? pod));
            Assert.Same(freed.Endpoint, pod);
        }

        leases.ForEach(l => l.Dispose());
    }

    [Fact]
    public void Leases_fill_every_pod_to_exactly_its_limit_and_a_freed_slot_is_the_next_one_taken()
    {
        Gen<(int Pods, int Choices, int Limit)> cases = Gen.Select(Gen.Int[1, 20], Gen.Int[2, 6], Gen.Int[1, 4]);

        Property.ForAll(cases, iterations: 150, seed: 0x13_04_0001UL, c =>
        {
            var service = new FakeHeadlessService(Pods(c.Pods));
            IEndpointSelector selector = EndpointSelectors.LeastRequest(service, c.Choices, c.Limit, seed: c.Pods);
            var leases = new List<EndpointLease>();
            while (selector.TryLease(out EndpointLease lease))
            {
                leases.Add(lease);
                Assert.True(leases.Count <= c.Pods * c.Limit, "more leases than pods x limit");
            }

            Assert.Equal(c.Pods * c.Limit, leases.Count);
            Assert.All(service.Current.Endpoints, pod => Assert.Equal(c.Limit, leases.Count(l => l.Endpoint == pod)));
            Assert.False(selector.TryPick(out _));

            EndpointLease freed = leases[^1];
            PodEndpoint pod = freed.Endpoint;
            freed.Dispose();
            Assert.Same(pod, selector.Pick());
            Assert.True(selector.TryLease(out EndpointLease again));
            Assert.Same(pod, again.Endpoint);
        });
    }

    [Fact]
    public void The_limit_holds_while_threads_lease_and_release_at_once()
    {
        const int Limit = 2;
        var service = new FakeHeadlessService(Pods(3));
        IEndpointSelector selector = EndpointSelectors.LeastRequest(service, maxLeasesPerPod: Limit);
        var holding = new int[3];
        int worst = 0;
        PodEndpoint[] pods = [.. service.Current.Endpoints];
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, _ =>
        {
            for (int i = 0; i < 20_000; i++)
            {
                if (!selector.TryLease(out EndpointLease lease))
                {
                    continue;
                }

                int index = Array.IndexOf(pods, lease.Endpoint);
                int now = Interlocked.Increment(ref holding[index]);
                AtomicMax.Raise(ref worst, now);
                Interlocked.Decrement(ref holding[index]);
                lease.Complete(true);
            }
        });

        Assert.InRange(worst, 1, Limit);
    }

    [Fact]
    public void Every_pod_at_its_limit_fails_a_lease_naming_the_limit_and_is_counted()
    {
        var service = new FakeHeadlessService(TestPods.ServiceName);
        service.Publish(Pods(2));
        IEndpointSelector selector = EndpointSelectors.LeastRequest(service, maxLeasesPerPod: 1);
        using EndpointLease first = selector.Lease();
        using EndpointLease second = selector.Lease();
        long rejected = 0;
        long rejectedEmpty = 0;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == DiscoveryTelemetry.Name && instrument.Name == "headless_discovery.lease.rejections")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Key == "service" && (string?)tag.Value == service.Name.Value)
                {
                    Interlocked.Add(ref rejected, value);
                }
                else if (tag.Key == "service" && (string?)tag.Value == "empty.default.svc.cluster.local")
                {
                    Interlocked.Add(ref rejectedEmpty, value);
                }
            }
        });
        listener.Start();

        // No pods at all is not a rejection by the limit: nothing counted, the usual message.
        var empty = new FakeHeadlessService(ServiceName.Parse("empty.default.svc.cluster.local"));
        empty.Publish([]);
        IEndpointSelector limitedOverNothing = EndpointSelectors.LeastRequest(empty, maxLeasesPerPod: 1);
        Assert.False(limitedOverNothing.TryLease(out _));
        Assert.Contains("has no ready pods", Assert.Throws<NoEndpointAvailableException>(() => limitedOverNothing.Pick()).Message, StringComparison.Ordinal);
        Assert.Equal(0, Interlocked.Read(ref rejectedEmpty));

        Assert.False(selector.TryLease(out _));
        var ex = Assert.Throws<NoEndpointAvailableException>(() => selector.Lease());
        Assert.Contains("each of its 2 available pod(s) holds 1 outstanding lease(s), the per-pod limit", ex.Message, StringComparison.Ordinal);
        Assert.Same(service.Current, ex.Snapshot);
        Assert.Equal(2, Interlocked.Read(ref rejected));
    }

    [Fact]
    public void Idle_pods_compared_in_full_share_the_picks()
    {
        var service = new FakeHeadlessService(Pods(4));
        IEndpointSelector selector = EndpointSelectors.LeastRequest(service, choiceCount: 4, seed: 7);
        PodEndpoint[] picks = [.. Enumerable.Range(0, 400).Select(_ => selector.Pick())];
        Assert.All(service.Current.Endpoints, pod => Assert.InRange(picks.Count(p => p == pod), 60, 140));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(65)]
    public void A_choice_count_outside_2_to_64_is_refused(int choices)
    {
        var service = new FakeHeadlessService(Pods(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => EndpointSelectors.LeastRequest(service, choices));
        Assert.Throws<ArgumentOutOfRangeException>(() => EndpointSelectors.LeastRequest(service, 2, maxLeasesPerPod: 0));
    }
}
