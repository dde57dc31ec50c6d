using Headless.Discovery.Testing;
using Headless.Discovery;
using static Headless.Discovery.Tests.Selection.TestPods;

namespace Headless.Discovery.Tests.Selection;

public sealed class SelectorHealthTests
{
    public static TheoryData<string> Kinds => ["RoundRobin", "Random", "LeastRequest", "PickFirst", "Subset", "ConsistentHash", "Ordinal"];

    /// <summary>Every selector as a pick function, so one test covers them all.</summary>
    internal static Func<PodEndpoint> Picker(string kind, IHeadlessService service, out Func<(bool, PodEndpoint?)> tryPick)
    {
        switch (kind)
        {
            case "ConsistentHash":
            {
                ConsistentHashSelector hash = EndpointSelectors.ConsistentHash(service);
                int key = 0;
                tryPick = () => (hash.TryPick(StableHash.Hash(key), out PodEndpoint? p), p);
                return () => hash.Pick(StableHash.Hash(Interlocked.Increment(ref key)));
            }

            case "Ordinal":
            {
                IEndpointSelector[] ordinals = [.. Enumerable.Range(0, 4).Select(k => EndpointSelectors.Ordinal(service, k))];
                int next = 0;
                tryPick = () => (ordinals[0].TryPick(out PodEndpoint? p), p);
                return () => ordinals[Interlocked.Increment(ref next) % 4].Pick();
            }

            default:
            {
                IEndpointSelector selector = kind switch
                {
                    "RoundRobin" => EndpointSelectors.RoundRobin(service),
                    "Random" => EndpointSelectors.Random(service, seed: 1),
                    "LeastRequest" => EndpointSelectors.LeastRequest(service, seed: 1),
                    "PickFirst" => EndpointSelectors.PickFirst(service, seed: 1),
                    "Subset" => EndpointSelectors.Subset(service, 3, "client-a"),
                    _ => throw new ArgumentOutOfRangeException(nameof(kind)),
                };
                tryPick = () => (selector.TryPick(out PodEndpoint? p), p);
                return selector.Pick;
            }
        }
    }

    private static (PodEndpoint Pod, EndpointHealth Health, bool Ejected)[] FourPods(EndpointHealth h0, bool e1, EndpointHealth h2 = EndpointHealth.Healthy, EndpointHealth h3 = EndpointHealth.Unknown) =>
    [
        (StatefulPod(0), h0, false),
        (StatefulPod(1), EndpointHealth.Healthy, e1),
        (StatefulPod(2), h2, false),
        (StatefulPod(3), h3, false),
    ];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Unhealthy_and_ejected_pods_are_never_picked(string kind)
    {
        var service = new FakeHeadlessService();
        service.Publish(FourPods(EndpointHealth.Unhealthy, e1: true));
        Func<PodEndpoint> pick = Picker(kind, service, out _);

        var seen = new HashSet<PodEndpoint>();
        for (int i = 0; i < 2_000; i++)
        {
            try
            {
                seen.Add(pick());
            }
            catch (NoEndpointAvailableException ex) when (kind == "Ordinal")
            {
                // Ordinals 0 and 1 are unavailable; the error says why.
                Assert.Contains(ex.Message.Contains("ordinal 0 ", StringComparison.Ordinal) ? "unhealthy" : "ejected", ex.Message, StringComparison.Ordinal);
            }
        }

        Assert.DoesNotContain(StatefulPod(0), seen);
        Assert.DoesNotContain(StatefulPod(1), seen);
        Assert.NotEmpty(seen);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Panic_mode_selects_among_every_pod(string kind)
    {
        var service = new FakeHeadlessService();
        service.Publish(FourPods(EndpointHealth.Unhealthy, e1: true, EndpointHealth.Unhealthy, EndpointHealth.Unhealthy), panic: true);
        Func<PodEndpoint> pick = Picker(kind, service, out _);

        var seen = new HashSet<PodEndpoint>();
        for (int i = 0; i < 2_000; i++)
        {
            seen.Add(pick());
        }

        // Sticky and subset selectors use fewer pods by design; the others reach unhealthy pods in panic.
        if (kind is "PickFirst")
        {
            Assert.Single(seen);
        }
        else
        {
            Assert.Equal(kind == "Subset" ? 3 : 4, seen.Count);
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void No_available_pod_throws_a_typed_error_naming_the_service_and_counts(string kind)
    {
        var service = new FakeHeadlessService();
        service.Publish(FourPods(EndpointHealth.Unhealthy, e1: true, EndpointHealth.Unhealthy, EndpointHealth.Unhealthy));
        Func<PodEndpoint> pick = Picker(kind, service, out Func<(bool, PodEndpoint?)> tryPick);

        var ex = Assert.Throws<NoEndpointAvailableException>(() => pick());
        Assert.Same(service.Current, ex.Snapshot);
        Assert.Equal(TestPods.ServiceName, ex.Snapshot!.Service);
        Assert.Equal((4, 0, 3, 1), (ex.Snapshot.Count, ex.Snapshot.Available.Length, ex.Snapshot.UnhealthyCount, ex.Snapshot.EjectedCount));
        Assert.Contains("web.default.svc.cluster.local", ex.Message, StringComparison.Ordinal);
        if (kind != "Ordinal")
        {
            Assert.Contains("none of its 4 pod(s) is available (3 unhealthy, 1 ejected)", ex.Message, StringComparison.Ordinal);
        }

        (bool found, PodEndpoint? endpoint) = tryPick();
        Assert.False(found);
        Assert.Null(endpoint);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void An_unresolved_or_empty_service_throws_and_try_pick_returns_false(string kind)
    {
        var service = new FakeHeadlessService();
        Func<PodEndpoint> pick = Picker(kind, service, out Func<(bool, PodEndpoint?)> tryPick);

        var unresolved = Assert.Throws<NoEndpointAvailableException>(() => pick());
        Assert.Contains("has not been resolved yet", unresolved.Message, StringComparison.Ordinal);
        Assert.False(tryPick().Item1);

        service.Publish([]);
        var empty = Assert.Throws<NoEndpointAvailableException>(() => pick());
        Assert.Contains("has no ready pods", empty.Message, StringComparison.Ordinal);
        Assert.Equal(0, empty.Snapshot!.Count);
        Assert.False(tryPick().Item1);

        service.Publish(Pods(1));
        Assert.NotNull(kind == "Ordinal" ? service.Current.Endpoints[0] : pick());
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Try_pick_returns_an_available_pod_with_one_pod_or_several(string kind)
    {
        var service = new FakeHeadlessService();
        service.Publish([(StatefulPod(0), EndpointHealth.Healthy, false)]);
        Picker(kind, service, out Func<(bool, PodEndpoint?)> tryPick);
        Assert.Equal((true, StatefulPod(0)), tryPick());

        service.Publish(FourPods(EndpointHealth.Healthy, e1: false));
        var seen = new HashSet<PodEndpoint>();
        for (int i = 0; i < 200; i++)
        {
            (bool found, PodEndpoint? pod) = tryPick();
            Assert.True(found);
            seen.Add(pod!);
        }

        // Selectors that spread picks reach every pod through TryPick too.
        if (kind is "RoundRobin" or "Random" or "LeastRequest")
        {
            Assert.Equal(4, seen.Count);
        }
    }

    public static TheoryData<string> LeasingKinds => ["RoundRobin", "Random", "LeastRequest", "PickFirst", "Subset"];

    private static IEndpointSelector Create(string kind, IHeadlessService service) => kind switch
    {
        "RoundRobin" => EndpointSelectors.RoundRobin(service),
        "Random" => EndpointSelectors.Random(service, seed: 1),
        "LeastRequest" => EndpointSelectors.LeastRequest(service, seed: 1),
        "PickFirst" => EndpointSelectors.PickFirst(service, seed: 1),
        "Subset" => EndpointSelectors.Subset(service, 3, "client-a"),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    [Theory]
    [MemberData(nameof(LeasingKinds))]
    public void Try_lease_gives_a_default_lease_without_pods_and_a_live_one_with_them(string kind)
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var service = new FakeHeadlessService() { TimeProvider = time };
        IEndpointSelector selector = Create(kind, service);

        Assert.False(selector.TryLease(out EndpointLease none));
        Assert.Null(none.Endpoint);
        Assert.Equal(default, none);
        Assert.Throws<NoEndpointAvailableException>(() => selector.Lease());

        service.Publish(Pods(2));
        Assert.True(selector.TryLease(out EndpointLease lease));
        Assert.Contains(lease.Endpoint, service.Current.Endpoints);
        time.Advance(TimeSpan.FromMilliseconds(40));
        lease.Complete(false);
        Assert.Equal((lease.Endpoint, false, TimeSpan.FromMilliseconds(40)), Assert.Single(service.Outcomes));
    }

    [Fact]
    public void Selectors_describe_their_kind_and_service()
    {
        var service = new FakeHeadlessService(Pods(3));
        Assert.Equal("RoundRobin over web.default.svc.cluster.local", EndpointSelectors.RoundRobin(service).ToString());
        Assert.Equal("Random over web.default.svc.cluster.local", EndpointSelectors.Random(service).ToString());
        Assert.Equal("LeastRequest(2) over web.default.svc.cluster.local", EndpointSelectors.LeastRequest(service).ToString());
        Assert.Equal("LeastRequest(3) over web.default.svc.cluster.local", EndpointSelectors.LeastRequest(service, 3).ToString());
        Assert.Equal("LeastRequest(2, max 5 leases/pod) over web.default.svc.cluster.local", EndpointSelectors.LeastRequest(service, maxLeasesPerPod: 5).ToString());
        Assert.Equal("PickFirst over web.default.svc.cluster.local", EndpointSelectors.PickFirst(service).ToString());
        Assert.Equal("Subset over web.default.svc.cluster.local", EndpointSelectors.Subset(service, 2, "me").ToString());
        Assert.Equal("ConsistentHash over web.default.svc.cluster.local", EndpointSelectors.ConsistentHash(service).ToString());
        Assert.Equal("Ordinal 2 over web.default.svc.cluster.local", EndpointSelectors.Ordinal(service, 2).ToString());
        Assert.Equal("Ordinal db-0 over web.default.svc.cluster.local", EndpointSelectors.Ordinal(service, "db").ToString());
    }

    [Fact]
    public void Selectors_follow_a_pod_turning_unhealthy_and_back()
    {
        var service = new FakeHeadlessService();
        service.Publish([(Pod(0), EndpointHealth.Healthy, false), (Pod(1), EndpointHealth.Healthy, false)]);
        IEndpointSelector selector = EndpointSelectors.RoundRobin(service);
        Assert.Equal(2, Enumerable.Range(0, 10).Select(_ => selector.Pick()).Distinct().Count());

        service.Publish([(Pod(0), EndpointHealth.Unhealthy, false), (Pod(1), EndpointHealth.Healthy, false)]);
        Assert.All(Enumerable.Range(0, 10).Select(_ => selector.Pick()), p => Assert.Equal(Pod(1), p));

        service.Publish([(Pod(0), EndpointHealth.Healthy, false), (Pod(1), EndpointHealth.Healthy, false)]);
        Assert.Equal(2, Enumerable.Range(0, 10).Select(_ => selector.Pick()).Distinct().Count());
    }
}
