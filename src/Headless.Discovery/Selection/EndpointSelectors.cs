namespace Headless.Discovery;

/// <summary>
/// Creates selectors over a <see cref="IHeadlessService"/>. Each selector honours health (it picks from
/// <see cref="EndpointSet.Available"/>, which holds every pod in panic mode), takes no lock and allocates nothing per
/// pick, and rebuilds its table only when the service publishes a new snapshot. Create one selector per purpose and
/// keep it: creation is not free, picking is. Lease latencies are measured on the service's
/// <see cref="IHeadlessService.TimeProvider"/>.
/// </summary>
public static class EndpointSelectors
{
    /// <summary>
    /// Round robin over the available pods, opening at a random pod. One caller's consecutive picks rotate exactly,
    /// whichever threads its awaits resume on; callers picking at the same moment share the pods evenly over time.
    /// </summary>
    /// <param name="service">The service to pick from.</param>
    /// <param name="slowStart">Ramps the share of pods that join later; <see langword="null"/> (the default) for none.</param>
    /// <returns>The selector.</returns>
    /// <exception cref="InvalidOptionsException"><paramref name="slowStart"/> has an option out of range (every one is named).</exception>
    public static IEndpointSelector RoundRobin(IHeadlessService service, SlowStartOptions? slowStart = null) =>
        SlowStart.For(service, slowStart) is { } ramp ? new RampingSelector(service, roundRobin: true, ramp, seed: null) : new RoundRobinSelector(service);

    /// <summary>Uniformly random among the available pods.</summary>
    /// <param name="service">The service to pick from.</param>
    /// <param name="slowStart">Ramps the share of pods that join later; <see langword="null"/> (the default) for none.</param>
    /// <param name="seed">A seed for a reproducible single-threaded sequence (tests). Default: a per-thread random source.</param>
    /// <returns>The selector.</returns>
    /// <exception cref="InvalidOptionsException"><paramref name="slowStart"/> has an option out of range (every one is named).</exception>
    public static IEndpointSelector Random(IHeadlessService service, SlowStartOptions? slowStart = null, int? seed = null) =>
        SlowStart.For(service, slowStart) is { } ramp ? new RampingSelector(service, roundRobin: false, ramp, seed) : new RandomSelector(service, seed);

    /// <summary>
    /// Least request (Envoy <c>LEAST_REQUEST</c> with <c>choice_count</c>): <paramref name="choiceCount"/> random available
    /// pods (two distinct ones for two choices, else drawn independently as in Envoy), the one with the fewest
    /// outstanding leases wins; with that many pods or fewer, all of them are
    /// compared (so two pods are never "two choices" of the same pod). With <paramref name="maxLeasesPerPod"/> (Envoy's
    /// per-host circuit breaking), a pod holding that many leases is skipped, and when every pod does,
    /// <see cref="IEndpointSelector.TryLease"/> returns <see langword="false"/> and <see cref="IEndpointSelector.Lease"/>
    /// throws a <see cref="NoEndpointAvailableException"/> that names the limit; the limit holds under concurrency.
    /// Only leases count as outstanding; plain picks skip full pods but hold no slot. Two choices, the default, is
    /// what other libraries call power of two choices (P2C).
    /// </summary>
    /// <param name="service">The service to pick from.</param>
    /// <param name="choiceCount">Pods compared per pick, 2 to 64. Default 2.</param>
    /// <param name="maxLeasesPerPod">The most outstanding leases one pod may hold, 1 or more; <see langword="null"/> (the default) for no limit.</param>
    /// <param name="slowStart">
    /// Ramps the share of pods that join later; <see langword="null"/> (the default) for none. While a pod ramps, the
    /// pods compared are drawn in proportion to their weights and the fewest outstanding leases per unit of weight wins.
    /// </param>
    /// <param name="seed">A seed for a reproducible single-threaded sequence (tests). Default: a per-thread random source.</param>
    /// <returns>The selector.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="choiceCount"/> or <paramref name="maxLeasesPerPod"/> is out of range.</exception>
    /// <exception cref="InvalidOptionsException"><paramref name="slowStart"/> has an option out of range (every one is named).</exception>
    public static IEndpointSelector LeastRequest(IHeadlessService service, int choiceCount = 2, int? maxLeasesPerPod = null, SlowStartOptions? slowStart = null, int? seed = null)
    {
        ArgumentNullException.ThrowIfNull(service);
        return new LeastRequestSelector(service, choiceCount, maxLeasesPerPod, seed, SlowStart.For(service, slowStart));
    }

    /// <summary>
    /// Consistent hashing (Maglev): a key maps to a pod, every client with the same pods maps it alike, and one of N
    /// pods leaving or joining (DNS, ejection, health) moves at most 1.5/N + 1 % of the keys and at most 2 % of the keys
    /// whose pod stayed. The table has 131 072 slots up to 2 048 pods whatever their health; see
    /// <see cref="ConsistentHashSelector"/> for the two larger steps.
    /// </summary>
    /// <param name="service">The service to pick from.</param>
    /// <returns>The selector.</returns>
    public static ConsistentHashSelector ConsistentHash(IHeadlessService service) =>
        new(service);

    /// <summary>
    /// StatefulSet identity: the pod with a given ordinal (hostname <c>&lt;set&gt;-&lt;n&gt;</c>, from SRV answers), in
    /// whichever StatefulSet it is. Use it when one StatefulSet stands behind the service; when two do and both have the
    /// ordinal, a pick fails naming both pods (name the set with
    /// <see cref="Ordinal(IHeadlessService, string, int)"/>).
    /// </summary>
    /// <param name="service">The service to pick from; resolve it through SRV records so pods carry hostnames.</param>
    /// <param name="ordinal">The ordinal <see cref="IEndpointSelector.Pick"/> picks, 0 or more. Default 0 (the usual primary).</param>
    /// <returns>The selector.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="ordinal"/> is negative.</exception>
    public static IEndpointSelector Ordinal(IHeadlessService service, int ordinal = 0) =>
        new OrdinalSelector(service, null, ordinal);

    /// <summary>StatefulSet identity: pod <c>&lt;statefulSet&gt;-&lt;ordinal&gt;</c> (from SRV answers), e.g. <c>web-0</c>.</summary>
    /// <param name="service">The service to pick from; resolve it through SRV records so pods carry hostnames.</param>
    /// <param name="statefulSet">The StatefulSet's name, e.g. <c>web</c> (case-insensitive).</param>
    /// <param name="ordinal">The ordinal <see cref="IEndpointSelector.Pick"/> picks, 0 or more. Default 0 (the usual primary).</param>
    /// <returns>The selector.</returns>
    /// <exception cref="ArgumentException"><paramref name="statefulSet"/> is not a StatefulSet name (a DNS label that does not end with '-').</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="ordinal"/> is negative.</exception>
    public static IEndpointSelector Ordinal(IHeadlessService service, string statefulSet, int ordinal = 0)
    {
        ArgumentNullException.ThrowIfNull(statefulSet);
        return new OrdinalSelector(service, statefulSet, ordinal);
    }

    /// <summary>
    /// Sticky: one pod until it stops being available or a lease on it fails, then the next in snapshot order. The
    /// first pod is chosen at a random position so many clients spread out.
    /// </summary>
    /// <param name="service">The service to pick from.</param>
    /// <param name="seed">A seed for the starting position (tests). Default: random.</param>
    /// <returns>The selector.</returns>
    public static IEndpointSelector PickFirst(IHeadlessService service, int? seed = null) =>
        new PickFirstSelector(service, seed);

    /// <summary>
    /// Deterministic subsetting for large services: this client uses a stable subset of <paramref name="size"/> available
    /// pods (rendezvous hashing on <paramref name="clientId"/> and pod identity), round robin within it. Clients spread
    /// evenly over the pods, and one pod of churn changes at most one member of a subset.
    /// </summary>
    /// <param name="service">The service to pick from.</param>
    /// <param name="size">How many pods each client uses, 1 or more (all of them when fewer are available).</param>
    /// <param name="clientId">A stable, unique id of this client, e.g. the pod name (<c>HOSTNAME</c>).</param>
    /// <returns>The selector.</returns>
    public static IEndpointSelector Subset(IHeadlessService service, int size, string clientId) =>
        new SubsetSelector(service, size, clientId);
}
