using Headless.Discovery.Testing;
using CsCheck;
using Headless.Discovery.TestSupport;
using Headless.Discovery;
using static Headless.Discovery.Tests.Selection.TestPods;

namespace Headless.Discovery.Tests.Selection;

/// <summary>
/// Consistent hashing with default options. Movement is measured over fixed key hashes spread over the whole 64-bit
/// space; tables are read slot by slot through the documented key-to-slot rule (a key hash h goes to slot
/// ⌊h × M / 2^64⌋ of a table of M slots).
/// </summary>
public sealed class ConsistentHashSelectorTests
{
    private static readonly ulong[] Keys = [.. Enumerable.Range(0, 20_000).Select(k => StableHash.Hash(k))];

    /// <summary>How a pod leaves the available set (and, reversed, how it joins).</summary>
    public enum Change
    {
        /// <summary>It leaves or joins the DNS answer.</summary>
        Dns,

        /// <summary>Passive health ejects it (or lets it back).</summary>
        Ejection,

        /// <summary>Active health marks it unhealthy (or healthy again).</summary>
        Unhealthy,
    }

    internal static PodEndpoint[] Map(ConsistentHashSelector selector) => [.. Keys.Select(selector.Pick)];

    /// <summary>
    /// Every slot of the current table, in slot order, read through picks: the table of a service of N pods has
    /// <c>MaglevTable.SizeFor(N)</c> slots whatever their health (tested below).
    /// </summary>
    private static PodEndpoint[] Table(ConsistentHashSelector selector, IHeadlessService service)
    {
        ulong size = (ulong)MaglevTable.SizeFor(service.Current.Endpoints.Length);
        var slots = new PodEndpoint[size];
        for (ulong s = 0; s < size; s++)
        {
            // The smallest key hash whose slot is s: ceil(s × 2^64 / size).
            ulong keyHash = (ulong)((((UInt128)s << 64) + size - 1) / size);
            slots[s] = selector.Pick(keyHash);
        }

        return slots;
    }

    /// <summary>Publishes <paramref name="pods"/> with <paramref name="changed"/> unavailable the way <paramref name="how"/> says (null: all available).</summary>
    private static void Publish(FakeHeadlessService service, IReadOnlyList<PodEndpoint> pods, PodEndpoint? changed, Change how)
    {
        if (how == Change.Dns)
        {
            service.Publish(pods.Where(p => p != changed));
            return;
        }

        service.Publish(pods.Select(p => (p, how == Change.Unhealthy && p == changed ? EndpointHealth.Unhealthy : EndpointHealth.Healthy, how == Change.Ejection && p == changed)));
    }

    /// <summary>
    /// The share of keys that moved, and the share of the keys whose pod stayed that moved anyway (to another pod than the one
    /// that joined, or away from a pod other than the one that left).
    /// </summary>
    private static (double Moved, double MovedWhosePodStayed) Movement(PodEndpoint[] before, PodEndpoint[] after, PodEndpoint changed)
    {
        int moved = 0, stayed = 0, movedWhosePodStayed = 0;
        for (int k = 0; k < before.Length; k++)
        {
            bool involved = before[k] == changed || after[k] == changed;
            moved += before[k] != after[k] ? 1 : 0;
            if (before[k] != changed)
            {
                stayed++;
                movedWhosePodStayed += before[k] != after[k] && !involved ? 1 : 0;
            }
        }

        return ((double)moved / before.Length, (double)movedWhosePodStayed / stayed);
    }

    /// <summary>Asserts the promise for one pod of <paramref name="n"/> leaving (or joining).</summary>
    internal static void AssertOneNth(int n, PodEndpoint[] before, PodEndpoint[] after, PodEndpoint changed, string what)
    {
        (double moved, double movedWhosePodStayed) = Movement(before, after, changed);
        double allowed = (1.5 / n) + 0.01;
        Assert.True(moved <= allowed, $"{what}: {moved:P2} of the keys moved, more than 1.5/{n} + 1 % = {allowed:P2}");
        Assert.True(movedWhosePodStayed <= 0.02, $"{what}: {movedWhosePodStayed:P2} of the keys whose pod stayed moved (more than 2 %)");
    }

    public static TheoryData<int, Change, bool> OneOfN()
    {
        var data = new TheoryData<int, Change, bool>();
        foreach (int n in new[] { 3, 10, 100, 1000 })
        {
            foreach (Change how in Enum.GetValues<Change>())
            {
                data.Add(n, how, false);
                data.Add(n, how, true);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(OneOfN))]
    public void One_of_n_pods_leaving_or_joining_moves_about_one_nth_of_the_keys_with_default_options(int n, Change how, bool join)
    {
        PodEndpoint[] pods = Pods(n);
        PodEndpoint changed = pods[n / 2];
        var service = new FakeHeadlessService();
        Publish(service, pods, join ? changed : null, how);
        ConsistentHashSelector selector = EndpointSelectors.ConsistentHash(service);
        PodEndpoint[] before = Map(selector);

        Publish(service, pods, join ? null : changed, how);
        PodEndpoint[] after = Map(selector);

        Assert.Equal(join, after.Contains(changed));
        AssertOneNth(n, before, after, changed, $"{n} pods, one {(join ? "joining" : "leaving")} by {how}");
    }

    [Fact]
    public void Moving_one_pod_in_or_out_moves_only_its_share_of_the_keys_over_generated_pod_sets()
    {
        Gen<(PodEndpoint[] Pods, int Changed, Change How, bool Join)> cases =
            from n in Gen.Frequency((3, Gen.OneOf(3, 10, 100, 1000)), (2, Gen.Int[2, 2048]))
            from pods in PodGen.Pods(n)
            from changed in Gen.Int[0, n - 1]
            from how in Gen.Enum<Change>()
            from joins in Gen.Bool
            select (pods, changed, how, joins);

        Property.ForAll(
            cases,
            iterations: 60,
            seed: 0x10010001UL,
            c =>
            {
                var service = new FakeHeadlessService();
                PodEndpoint changed = c.Pods[c.Changed];
                Publish(service, c.Pods, c.Join ? changed : null, c.How);
                ConsistentHashSelector selector = EndpointSelectors.ConsistentHash(service);
                PodEndpoint[] before = Map(selector);
                Publish(service, c.Pods, c.Join ? null : changed, c.How);
                AssertOneNth(c.Pods.Length, before, Map(selector), changed, $"{c.Pods.Length} pods, one {(c.Join ? "joining" : "leaving")} by {c.How}");
            },
            print: c => $"{c.Pods.Length} pods, #{c.Changed} {(c.Join ? "joins" : "leaves")} by {c.How}");
    }

    [Fact]
    public void The_same_available_pods_give_the_same_table_whatever_the_order_history_or_unavailable_pods()
    {
        Gen<(PodEndpoint[] Available, PodEndpoint[] Unavailable, PodEndpoint[] Earlier, int Shuffle)> cases =
            from n in Gen.Int[1, 1000]
            from available in PodGen.Pods(n)
            from unavailable in PodGen.Pods(3)
            from earlier in PodGen.Pods(5)
            from shuffle in Gen.Int
            select (available, unavailable, earlier, shuffle);

        Property.ForAll(
            cases,
            iterations: 25,
            seed: 0x10010002UL,
            c =>
            {
                var plain = new FakeHeadlessService(c.Available);
                PodEndpoint[] expected = Table(EndpointSelectors.ConsistentHash(plain), plain);

                // Another client: the answer arrives in another order, after an earlier membership, with pods it
                // sees as unhealthy or ejected (not in the first client's answer at all).
                var other = new FakeHeadlessService(c.Earlier);
                ConsistentHashSelector selector = EndpointSelectors.ConsistentHash(other);
                _ = selector.Pick(0UL);
                PodEndpoint[] shuffled = [.. c.Available.Concat(c.Unavailable)];
                new Random(c.Shuffle).Shuffle(shuffled);
                other.Publish(shuffled.Select(p => (p, c.Unavailable[0] == p ? EndpointHealth.Unhealthy : EndpointHealth.Healthy, c.Unavailable.Skip(1).Contains(p))));

                Assert.Equal(expected, Table(selector, other));
            },
            print: c => $"{c.Available.Length} available pods");
    }

    [Fact]
    public void Each_available_pod_owns_the_floor_or_the_ceiling_of_its_even_share_of_the_table()
    {
        Gen<PodEndpoint[]> cases = Gen.Frequency((3, Gen.OneOf(1, 2, 3, 10, 100, 1000, 2048)), (2, Gen.Int[1, 2048])).SelectMany(PodGen.Pods);

        Property.ForAll(
            cases,
            iterations: 30,
            seed: 0x10010003UL,
            pods =>
            {
                var service = new FakeHeadlessService(pods);
                Dictionary<PodEndpoint, int> slots = Table(EndpointSelectors.ConsistentHash(service), service).CountBy(p => p).ToDictionary();
                AssertEvenShares(slots, MaglevTable.SizeFor(pods.Length), pods.Length);
            },
            print: pods => $"{pods.Length} pods");
    }

    [Fact]
    public void Keys_spread_evenly_over_the_pods()
    {
        foreach (int n in new[] { 3, 10, 100 })
        {
            ConsistentHashSelector selector = EndpointSelectors.ConsistentHash(new FakeHeadlessService(Pods(n)));
            Dictionary<PodEndpoint, int> counts = Map(selector).CountBy(p => p).ToDictionary();
            double expected = (double)Keys.Length / n;
            Assert.Equal(n, counts.Count);

            // Slots are even to one slot per pod (tested above); the rest is key sampling (20 000 keys: ±5 σ at 100 pods).
            Assert.All(counts.Values, c => Assert.InRange(c, expected * 0.75, expected * 1.25));
        }
    }

    [Theory]
    [InlineData(1, 131_072)]
    [InlineData(3, 131_072)]
    [InlineData(2048, 131_072)]
    [InlineData(2049, 524_288)]
    [InlineData(8193, 1_048_576)]
    public void The_table_size_follows_only_the_pod_count_and_only_in_large_steps(int pods, int tableSize)
    {
        Assert.Equal(tableSize, MaglevTable.SizeFor(pods));
        var service = new FakeHeadlessService(Pods(pods));
        ConsistentHashSelector selector = EndpointSelectors.ConsistentHash(service);
        AssertEvenShares(Table(selector, service).CountBy(p => p).ToDictionary(), tableSize, pods);

        // Health changes never resize the table, however many pods they take out (pod 0 stays available): the table
        // still splits evenly over the available pods at the pod count's size. Resized by the available pods instead
        // (2049 → 683 pods: 131 072 slots, each read 4 times), every share would be a multiple of 4 and miss by up to 3.
        service.Publish(service.Current.Endpoints.Select((p, i) => (p, i % 2 == 1 ? EndpointHealth.Unhealthy : EndpointHealth.Healthy, i % 3 == 2)));
        AssertEvenShares(Table(selector, service).CountBy(p => p).ToDictionary(), tableSize, service.Current.Available.Length);
    }

    /// <summary>Each of <paramref name="available"/> pods owns ⌊size/available⌋ or ⌈size/available⌉ slots.</summary>
    private static void AssertEvenShares(Dictionary<PodEndpoint, int> slots, int size, int available)
    {
        int floor = size / available;
        int ceiling = floor + (size % available == 0 ? 0 : 1);
        Assert.Equal(available, slots.Count);
        Assert.All(slots.Values, count => Assert.InRange(count, floor, ceiling));
    }

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
    public void No_available_pod_is_reported_not_guessed()
    {
        var service = new FakeHeadlessService();
        ConsistentHashSelector selector = EndpointSelectors.ConsistentHash(service);
        Assert.False(selector.TryPick(42UL, out PodEndpoint? none));
        Assert.Null(none);
        Assert.Throws<NoEndpointAvailableException>(() => selector.Pick("k"));

        service.Publish([(Pod(1), EndpointHealth.Unhealthy, false)]);
        Assert.Throws<NoEndpointAvailableException>(() => selector.Pick(42UL));
    }

    [Fact]
    public void Leases_report_to_passive_health_with_the_service_clock()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var service = new FakeHeadlessService(Pods(3)) { TimeProvider = time };
        ConsistentHashSelector selector = EndpointSelectors.ConsistentHash(service);
        using (EndpointLease lease = selector.Lease("k"))
        {
            Assert.Equal(selector.Pick("k"), lease.Endpoint);
            time.Advance(TimeSpan.FromMilliseconds(120));
            lease.Complete(false);
        }

        (PodEndpoint endpoint, bool succeeded, TimeSpan latency) = Assert.Single(service.Outcomes);
        Assert.Equal(selector.Pick("k"), endpoint);
        Assert.False(succeeded);
        Assert.Equal(TimeSpan.FromMilliseconds(120), latency);
    }
}
