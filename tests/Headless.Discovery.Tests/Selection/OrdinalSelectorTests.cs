using Headless.Discovery.Testing;
using System.Net;
using CsCheck;
using Headless.Discovery;
using Headless.Discovery.TestSupport;
using Microsoft.Extensions.Time.Testing;
using static Headless.Discovery.Tests.Selection.TestPods;

namespace Headless.Discovery.Tests.Selection;

public sealed class OrdinalSelectorTests
{
    [Fact]
    public void Maps_each_ordinal_to_its_pod_and_defaults_to_the_primary()
    {
        // Addresses deliberately out of ordinal order: the mapping must follow hostnames, not address order.
        var service = new FakeHeadlessService(StatefulPod(0, addressIndex: 7), StatefulPod(1, addressIndex: 3), StatefulPod(2, addressIndex: 5));
        IEndpointSelector selector = EndpointSelectors.Ordinal(service);

        Assert.Equal("web-0.web.default.svc.cluster.local", selector.Pick().Hostname);
        for (int k = 0; k < 3; k++)
        {
            Assert.Equal(k, EndpointSelectors.Ordinal(service, k).Pick().Ordinal);
            Assert.True(EndpointSelectors.Ordinal(service, k).TryPick(out PodEndpoint? pod));
            Assert.Equal(k, pod.Ordinal);
        }

        Assert.Equal(2, EndpointSelectors.Ordinal(service, 2).Pick().Ordinal);
    }

    [Fact]
    public void An_absent_ordinal_is_a_clear_error_listing_the_ordinals_present()
    {
        var service = new FakeHeadlessService(StatefulPod(1), StatefulPod(2));
        IEndpointSelector selector = EndpointSelectors.Ordinal(service);

        var ex = Assert.Throws<NoEndpointAvailableException>(() => selector.Pick());
        Assert.Contains("no pod has ordinal 0 (ordinals present: 1, 2)", ex.Message, StringComparison.Ordinal);
        Assert.False(selector.TryPick(out _));
        Assert.False(EndpointSelectors.Ordinal(service, 1_000_000).TryPick(out _));
    }

    [Fact]
    public void An_empty_set_names_the_ordinal_asked_for_and_an_unresolved_one_says_so()
    {
        var service = new FakeHeadlessService();
        var ex = Assert.Throws<NoEndpointAvailableException>(() => EndpointSelectors.Ordinal(service, 2).Pick());
        Assert.Contains("it has not been resolved yet", ex.Message, StringComparison.Ordinal);

        service.Publish(Array.Empty<PodEndpoint>());
        ex = Assert.Throws<NoEndpointAvailableException>(() => EndpointSelectors.Ordinal(service, "web", 2).Pick());
        Assert.Contains("it has no ready pods, so none with ordinal 2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Pods_without_statefulset_hostnames_are_explained()
    {
        var service = new FakeHeadlessService(Pods(3));
        var ex = Assert.Throws<NoEndpointAvailableException>(() => EndpointSelectors.Ordinal(service).Pick());
        Assert.Contains("resolve through SRV records", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unhealthy_primary_is_reported_as_such_and_picked_again_in_panic()
    {
        var service = new FakeHeadlessService();
        service.Publish([(StatefulPod(0), EndpointHealth.Unhealthy, false), (StatefulPod(1), EndpointHealth.Healthy, false)]);
        IEndpointSelector selector = EndpointSelectors.Ordinal(service);

        var ex = Assert.Throws<NoEndpointAvailableException>(() => selector.Pick());
        Assert.Contains("the pod with ordinal 0 (10.2.0.1:5432 (web-0.web.default.svc.cluster.local)) is unhealthy", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, EndpointSelectors.Ordinal(service, 1).Pick().Ordinal);

        service.Publish([(StatefulPod(0), EndpointHealth.Unhealthy, false), (StatefulPod(1), EndpointHealth.Unhealthy, false)], panic: true);
        Assert.Equal(0, selector.Pick().Ordinal);
    }

    [Fact]
    public void The_primary_moving_to_a_new_address_is_followed()
    {
        var service = new FakeHeadlessService(StatefulPod(0, addressIndex: 1), StatefulPod(1, addressIndex: 2));
        IEndpointSelector selector = EndpointSelectors.Ordinal(service);
        Assert.Equal("10.2.0.2", selector.Pick().Address.ToString());

        service.Publish([StatefulPod(0, addressIndex: 9), StatefulPod(1, addressIndex: 2)]);
        Assert.Equal("10.2.0.10", selector.Pick().Address.ToString());
    }

    [Fact]
    public void Sparse_large_ordinals_still_resolve()
    {
        var service = new FakeHeadlessService(StatefulPod(0), StatefulPod(5000, addressIndex: 9));
        Assert.Equal(5000, EndpointSelectors.Ordinal(service, 5000).Pick().Ordinal);
    }

    [Fact]
    public void Two_statefulsets_with_the_same_ordinal_make_an_unnamed_pick_an_error_naming_both_pods()
    {
        // cache-0 has the lower address: before, it silently won.
        PodEndpoint cache = StatefulPod(0, set: "cache", addressIndex: 1);
        PodEndpoint db = StatefulPod(0, set: "db", addressIndex: 2);
        var service = new FakeHeadlessService(cache, db, StatefulPod(1, set: "db", addressIndex: 3));
        IEndpointSelector selector = EndpointSelectors.Ordinal(service);

        var ex = Assert.Throws<NoEndpointAvailableException>(() => selector.Pick());
        Assert.Contains(cache.ToString(), ex.Message, StringComparison.Ordinal);
        Assert.Contains(db.ToString(), ex.Message, StringComparison.Ordinal);
        Assert.Contains("ambiguous", ex.Message, StringComparison.Ordinal);
        Assert.Contains("name the StatefulSet, e.g. EndpointSelectors.Ordinal(service, \"cache\", 0)", ex.Message, StringComparison.Ordinal);
        Assert.False(selector.TryPick(out _));

        // An ordinal only one set has is still found.
        Assert.Equal(StatefulPod(1, set: "db", addressIndex: 3), EndpointSelectors.Ordinal(service, 1).Pick());
    }

    [Fact]
    public void The_same_pod_name_at_two_addresses_is_an_error_naming_both()
    {
        PodEndpoint old = StatefulPod(0, addressIndex: 1);
        PodEndpoint moved = StatefulPod(0, addressIndex: 2);
        IEndpointSelector selector = EndpointSelectors.Ordinal(new FakeHeadlessService(old, moved));

        var ex = Assert.Throws<NoEndpointAvailableException>(() => selector.Pick());
        Assert.Contains(old.ToString(), ex.Message, StringComparison.Ordinal);
        Assert.Contains(moved.ToString(), ex.Message, StringComparison.Ordinal);
        Assert.Contains("both available under one pod name", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("name the StatefulSet", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_negative_ordinal_is_refused_by_both_factories_naming_the_parameter()
    {
        var service = new FakeHeadlessService(StatefulPod(0));
        Assert.Equal("ordinal", Assert.Throws<ArgumentOutOfRangeException>(() => EndpointSelectors.Ordinal(service, -1)).ParamName);
        Assert.Equal("ordinal", Assert.Throws<ArgumentOutOfRangeException>(() => EndpointSelectors.Ordinal(service, "web", -1)).ParamName);
    }

    [Fact]
    public void Naming_the_statefulset_picks_its_pods_only()
    {
        var service = new FakeHeadlessService(
            StatefulPod(0, set: "cache", addressIndex: 1),
            StatefulPod(0, set: "db", addressIndex: 2),
            StatefulPod(1, set: "db", addressIndex: 3),
            StatefulPod(2, set: "cache", addressIndex: 4));
        IEndpointSelector db = EndpointSelectors.Ordinal(service, "db", 0);
        IEndpointSelector cache = EndpointSelectors.Ordinal(service, "CACHE");

        Assert.Equal(StatefulPod(0, set: "db", addressIndex: 2), db.Pick());
        Assert.Equal(StatefulPod(1, set: "db", addressIndex: 3), EndpointSelectors.Ordinal(service, "db", 1).Pick());
        Assert.Equal(StatefulPod(0, set: "cache", addressIndex: 1), cache.Pick());
        Assert.Equal(StatefulPod(2, set: "cache", addressIndex: 4), EndpointSelectors.Ordinal(service, "Cache", 2).Pick());
        Assert.Equal("Ordinal db-0 over web.default.svc.cluster.local", db.ToString());
        Assert.Equal("Ordinal cache-0 over web.default.svc.cluster.local", cache.ToString());
        Assert.Equal("Ordinal 0 over web.default.svc.cluster.local", EndpointSelectors.Ordinal(service).ToString());

        var ex = Assert.Throws<NoEndpointAvailableException>(() => EndpointSelectors.Ordinal(service, "db", 2).Pick());
        Assert.Contains("no pod of StatefulSet 'db' has ordinal 2 (ordinals present: 0, 1)", ex.Message, StringComparison.Ordinal);
        ex = Assert.Throws<NoEndpointAvailableException>(() => EndpointSelectors.Ordinal(service, "web").Pick());
        Assert.Contains("no pod belongs to StatefulSet 'web', so none has ordinal 0 (StatefulSets present: cache, db)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_ambiguity_ends_when_one_of_the_two_pods_is_unavailable()
    {
        var service = new FakeHeadlessService();
        service.Publish([(StatefulPod(0, set: "cache", addressIndex: 1), EndpointHealth.Unhealthy, false), (StatefulPod(0, set: "db", addressIndex: 2), EndpointHealth.Healthy, false)]);
        Assert.Equal("db", EndpointSelectors.Ordinal(service).Pick().StatefulSetName);
    }

    [Fact]
    public void Leases_take_the_default_ordinal_and_report_with_the_service_clock()
    {
        var time = new FakeTimeProvider();
        var service = new FakeHeadlessService(StatefulPod(0), StatefulPod(1)) { TimeProvider = time };
        IEndpointSelector selector = EndpointSelectors.Ordinal(service, 1);

        Assert.True(selector.TryLease(out EndpointLease lease));
        Assert.Equal(StatefulPod(1), lease.Endpoint);
        time.Advance(TimeSpan.FromSeconds(3));
        lease.Complete(false);
        using (EndpointLease primary = EndpointSelectors.Ordinal(service).Lease())
        {
            Assert.Equal(StatefulPod(0), primary.Endpoint);
            primary.Complete(true);
        }

        Assert.Equal(
            [(StatefulPod(1), false, TimeSpan.FromSeconds(3)), (StatefulPod(0), true, TimeSpan.Zero)],
            service.Outcomes.ToArray());

        service.Publish([StatefulPod(0)]);
        Assert.False(selector.TryLease(out EndpointLease none));
        Assert.Null(none.Endpoint);
        Assert.Equal(default, none);
        Assert.Contains("no pod has ordinal 1 (ordinals present: 0)", Assert.Throws<NoEndpointAvailableException>(() => selector.Lease()).Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A generated StatefulSet member: its set ("web", "db", or none for a pod without a StatefulSet hostname), its
    /// ordinal (small, or next to the pod count, where the selector's dense table ends, or far beyond), health and ejection.
    /// </summary>
    private sealed record Member(string? Set, int OrdinalChoice, EndpointHealth Health, bool Ejected);

    private static int OrdinalOf(int choice, int podCount) => choice switch
    {
        < 5 => choice,
        5 => podCount - 1,
        6 => podCount,
        7 => podCount + 1,
        _ => 5000,
    };

    [Fact]
    public void A_pick_finds_the_one_available_pod_with_the_ordinal_or_fails_saying_why_over_generated_sets()
    {
        Gen<Member> member =
            from set in Gen.OneOf<string?>("web", "db", null)
            from ordinal in Gen.Frequency((6, Gen.Int[0, 4]), (1, Gen.Int[5, 8]))
            from health in Gen.Enum<EndpointHealth>()
            from ejected in Gen.Frequency((4, Gen.Const(false)), (1, Gen.Const(true)))
            select new Member(set, ordinal, health, ejected);
        Gen<(Member[] Members, bool Panic, string? Named, int Default)> cases =
            from members in member.Array[1, 12]
            from panic in Gen.Frequency((4, Gen.Const(false)), (1, Gen.Const(true)))
            from named in Gen.OneOf<string?>(null, "web", "db")
            from defaultOrdinal in Gen.Int[0, 3]
            select (members, panic, named, defaultOrdinal);

        Property.ForAll(
            cases,
            iterations: 400,
            seed: 0x10_05_0006UL,
            c =>
            {
                int n = c.Members.Length;

                // Every pod has an address of its own, so none is merged and the snapshot holds n pods.
                (PodEndpoint Pod, EndpointHealth Health, bool Ejected)[] pods =
                [
                    .. c.Members.Select((m, i) => (
                        m.Set is null
                            ? new PodEndpoint(IPAddress.Parse($"10.3.0.{i + 1}"), 5432)
                            : new PodEndpoint(IPAddress.Parse($"10.3.0.{i + 1}"), 5432, $"{m.Set}-{OrdinalOf(m.OrdinalChoice, n)}.{m.Set}.default.svc.cluster.local"),
                        m.Health,
                        m.Ejected)),
                ];
                var service = new FakeHeadlessService();
                EndpointSet set = service.Publish(pods, c.Panic);
                Assert.Equal(n, set.Count);
                IEndpointSelector Selector(int ordinal) => c.Named is null
                    ? EndpointSelectors.Ordinal(service, ordinal)
                    : EndpointSelectors.Ordinal(service, c.Named, ordinal);

                int[] probes = [0, 1, 2, 3, 4, n - 1, n, n + 1, 5000, 5001];
                foreach (int ordinal in probes.Append(c.Default))
                {
                    bool counts(PodEndpoint p) => p.Ordinal == ordinal && (c.Named is null || p.StatefulSetName == c.Named);
                    PodEndpoint[] candidates = [.. set.Available.Where(counts)];
                    IEndpointSelector selector = Selector(ordinal);
                    bool found = selector.TryPick(out PodEndpoint? picked);
                    if (candidates.Length == 1)
                    {
                        Assert.True(found, $"ordinal {ordinal} not found");
                        Assert.Equal(candidates[0], picked);
                        Assert.Equal(candidates[0], selector.Pick());
                        continue;
                    }

                    Assert.False(found, $"ordinal {ordinal} picked {picked}");
                    Assert.Null(picked);
                    var ex = Assert.Throws<NoEndpointAvailableException>(selector.Pick);
                    Assert.Contains($"ordinal {ordinal}", ex.Message, StringComparison.Ordinal);
                    if (candidates.Length > 1)
                    {
                        // The first two in snapshot order are named.
                        Assert.Contains($"ordinal {ordinal} is ambiguous: {candidates[0]} and {candidates[1]}", ex.Message, StringComparison.Ordinal);
                    }
                    else if (set.Endpoints.FirstOrDefault(counts) is { } unavailable)
                    {
                        Assert.Contains($"with ordinal {ordinal} ({unavailable}) is ", ex.Message, StringComparison.Ordinal);
                    }
                    else
                    {
                        Assert.DoesNotContain("ambiguous", ex.Message, StringComparison.Ordinal);
                    }
                }
            },
            print: c => $"{string.Join(", ", c.Members.Select(m => $"{m.Set ?? "(none)"}-{OrdinalOf(m.OrdinalChoice, c.Members.Length)} {m.Health}{(m.Ejected ? " ejected" : string.Empty)}"))}; panic {c.Panic}, set {c.Named ?? "(any)"}, default {c.Default}");
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("web-")]
    [InlineData("-web")]
    [InlineData("we_b")]
    [InlineData("web.default")]
    public void A_malformed_statefulset_name_is_refused_naming_the_parameter(string name)
    {
        var ex = Assert.ThrowsAny<ArgumentException>(() => EndpointSelectors.Ordinal(new FakeHeadlessService(), name));
        Assert.Equal("statefulSet", ex.ParamName);
    }
}
