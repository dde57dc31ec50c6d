using System.Collections.Immutable;
using System.Runtime.InteropServices;

namespace Headless.Discovery;

/// <summary>
/// An immutable snapshot of a headless Service's pods, as published by <see cref="IHeadlessService"/>.
/// </summary>
/// <remarks>
/// Endpoints are sorted (see <see cref="PodEndpoint"/> ordering) and unique. A snapshot never changes after it
/// is published; a new <see cref="Version"/> is published only when membership, staleness, or a pod's health
/// (<see cref="EndpointStatus.Health"/>, <see cref="EndpointStatus.IsEjected"/>) or <see cref="IsPanic"/> changes. The
/// details in <see cref="Statuses"/> (latency, last error, counters) are as of the publication; changes to them alone
/// publish nothing (see <see cref="IHeadlessService.GetHealthDetails"/> for live values).
/// Safe to share across threads.
/// </remarks>
public sealed class EndpointSet
{
    private ImmutableArray<EndpointStatus> _statuses;

    /// <summary>
    /// A snapshot handed everything it holds: the health room decides <paramref name="available"/> and
    /// <paramref name="isPanic"/>; the snapshot only keeps them.
    /// </summary>
    /// <remarks>
    /// <c>statuses</c>: one per endpoint, aligned; default when nothing is known about any pod. <c>available</c>: the
    /// selectable pods, sorted; default for every pod.
    /// </remarks>
    internal EndpointSet(
        ServiceName service,
        ImmutableArray<PodEndpoint> endpoints,
        long version,
        DateTimeOffset resolvedAt,
        TimeSpan ttl,
        bool isStale,
        DateTimeOffset? staleSince,
        Exception? lastError,
        ImmutableArray<EndpointStatus> statuses = default,
        ImmutableArray<PodEndpoint> available = default,
        bool isPanic = false)
    {
        Service = service;
        Endpoints = endpoints;
        if (!statuses.IsDefault)
        {
            if (statuses.Length != endpoints.Length)
            {
                throw new ArgumentException("One status per endpoint, in the same order, is required.", nameof(statuses));
            }

            // Nothing known about any pod leaves the statuses default: each pod's shared "unknown" one, built on first
            // read only (a service nobody asks about health holds no status object per pod).
            _statuses = statuses;
            foreach (EndpointStatus status in statuses)
            {
                HealthyCount += status.Health == EndpointHealth.Healthy ? 1 : 0;
                UnhealthyCount += status.Health == EndpointHealth.Unhealthy ? 1 : 0;
                EjectedCount += status.IsEjected ? 1 : 0;
            }
        }

        Available = available.IsDefault ? endpoints : available;
        IsPanic = isPanic;
        Version = version;
        ResolvedAt = resolvedAt;
        Ttl = ttl;
        IsStale = isStale;
        StaleSince = staleSince;
        LastError = lastError;
    }

    /// <summary>A snapshot of <paramref name="membership"/> at <paramref name="version"/>, handed its health.</summary>
    internal EndpointSet(
        ServiceName service,
        Membership membership,
        long version,
        ImmutableArray<EndpointStatus> statuses = default,
        ImmutableArray<PodEndpoint> available = default,
        bool isPanic = false)
        : this(service, membership.Endpoints, version, membership.ResolvedAt, membership.Ttl, membership.IsStale, membership.StaleSince, membership.LastError, statuses, available, isPanic)
    {
    }

    /// <summary>The fully qualified service name the snapshot belongs to.</summary>
    public ServiceName Service { get; }

    /// <summary>The pods, sorted by address, port, hostname; empty when the service has no ready pods.</summary>
    public ImmutableArray<PodEndpoint> Endpoints { get; }

    /// <summary>Each pod's health, aligned by index with <see cref="Endpoints"/>. All <see cref="EndpointHealth.Unknown"/> without health checking.</summary>
    public ImmutableArray<EndpointStatus> Statuses
    {
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        get
        {
            ImmutableArray<EndpointStatus> statuses = _statuses;
            return statuses.IsDefault ? BuildUnknownStatuses() : statuses;
        }
    }

    private ImmutableArray<EndpointStatus> BuildUnknownStatuses()
    {
        var unknown = new EndpointStatus[Endpoints.Length];
        for (int i = 0; i < unknown.Length; i++)
        {
            unknown[i] = Endpoints[i].UnknownStatus;
        }

        // Two threads racing here build equal arrays of the same shared objects; either is kept.
        return _statuses = ImmutableCollectionsMarshal.AsImmutableArray(unknown);
    }

    /// <summary>Nothing is known about any pod's health: every status is "unknown" (read without building them).</summary>
    internal bool KnowsNoHealth => _statuses.IsDefault;

    /// <summary>
    /// The pods selectors choose from, sorted: those neither unhealthy nor ejected, or every pod in panic mode
    /// (<see cref="IsPanic"/>). Precomputed once per snapshot: reading it allocates nothing.
    /// </summary>
    public ImmutableArray<PodEndpoint> Available { get; }

    /// <summary>
    /// <see langword="true"/> when too few pods are available (below the panic threshold), so <see cref="Available"/>
    /// holds every pod rather than overloading the few healthy ones.
    /// </summary>
    public bool IsPanic { get; }

    /// <summary>Pods whose active health is <see cref="EndpointHealth.Healthy"/>.</summary>
    public int HealthyCount { get; }

    /// <summary>Pods whose active health is <see cref="EndpointHealth.Unhealthy"/>.</summary>
    public int UnhealthyCount { get; }

    /// <summary>Pods ejected by passive outlier detection.</summary>
    public int EjectedCount { get; }

    /// <summary>The status of <paramref name="endpoint"/> in this snapshot, or <see langword="null"/> if it is not a member.</summary>
    /// <param name="endpoint">The pod.</param>
    /// <returns>Its status (binary search; no allocation).</returns>
    public EndpointStatus? GetStatus(PodEndpoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        int index = IndexOf(endpoint);
        return index >= 0 ? Statuses[index] : null;
    }

    /// <summary>The index of <paramref name="endpoint"/> in <see cref="Endpoints"/>, or a negative number.</summary>
    internal int IndexOf(PodEndpoint endpoint) => Endpoints.BinarySearch(endpoint);

    /// <summary>Number of pods in <see cref="Endpoints"/>.</summary>
    internal int Count => Endpoints.Length;

    /// <summary>
    /// Monotonically increasing version; 0 for the placeholder before the first resolution, 1 for the first published snapshot.
    /// </summary>
    public long Version { get; }

    /// <summary>
    /// When the DNS answer that produced this membership was received (from the service's <see cref="TimeProvider"/>).
    /// Refreshes that return the same endpoints publish no new snapshot, so this is when the membership was first seen,
    /// not the time of the latest refresh.
    /// </summary>
    public DateTimeOffset ResolvedAt { get; }

    /// <summary>The smallest TTL in the DNS answer the endpoints came from.</summary>
    public TimeSpan Ttl { get; }

    /// <summary>
    /// <see langword="true"/> when the latest refresh failed (or returned an unconfirmed empty answer) and these are the
    /// last known good endpoints kept in its place.
    /// </summary>
    internal bool IsStale { get; }

    /// <summary>When the set first became stale, or <see langword="null"/> when it is fresh.</summary>
    public DateTimeOffset? StaleSince { get; }

    /// <summary>The error of the refresh that made the set stale (or emptied it), or <see langword="null"/>.</summary>
    public Exception? LastError { get; }

    /// <summary><see langword="true"/> once at least one resolution attempt has completed (<see cref="Version"/> &gt; 0).</summary>
    internal bool IsInitialized => Version > 0;

    /// <summary>Creates a snapshot from unsorted endpoints (sorted and de-duplicated here); for tests and custom resolvers.</summary>
    /// <param name="service">The service name.</param>
    /// <param name="endpoints">The endpoints in any order; duplicates are removed.</param>
    /// <param name="version">The version number (0 or more).</param>
    /// <param name="resolvedAt">When the endpoints were resolved.</param>
    /// <param name="ttl">The answer's TTL.</param>
    /// <returns>A new snapshot that is not stale.</returns>
    public static EndpointSet Create(ServiceName service, IEnumerable<PodEndpoint> endpoints, long version, DateTimeOffset resolvedAt, TimeSpan ttl)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentOutOfRangeException.ThrowIfNegative(version);
        return new EndpointSet(service, PodEndpointOrder.SortUnique(endpoints), version, resolvedAt, ttl, false, null, null);
    }

    /// <summary>A short description: service, version, count and staleness.</summary>
    public override string ToString() =>
        $"{Service} v{Version}: {Count} endpoint(s){(IsStale ? " (stale)" : string.Empty)}";

    /// <summary>
    /// Creates a snapshot with a health per pod, from statuses in any order (sorted and de-duplicated by pod here, the
    /// first status of a pod kept); for tests and custom publishers.
    /// </summary>
    /// <param name="service">The service name.</param>
    /// <param name="statuses">One status per pod, in any order.</param>
    /// <param name="version">The version number (0 or more).</param>
    /// <param name="resolvedAt">When the endpoints were resolved.</param>
    /// <param name="ttl">The answer's TTL.</param>
    /// <param name="isPanic">
    /// Whether too few pods are available, so <see cref="Available"/> holds every pod; otherwise it holds the pods whose
    /// <see cref="EndpointStatus.IsAvailable"/> is <see langword="true"/>. Default: <see langword="false"/>.
    /// </param>
    /// <returns>A new snapshot that is not stale.</returns>
    public static EndpointSet Create(ServiceName service, IEnumerable<EndpointStatus> statuses, long version, DateTimeOffset resolvedAt, TimeSpan ttl, bool isPanic = false)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(statuses);
        ArgumentOutOfRangeException.ThrowIfNegative(version);
        var byPod = new Dictionary<PodEndpoint, EndpointStatus>();
        foreach (EndpointStatus status in statuses)
        {
            ArgumentNullException.ThrowIfNull(status, nameof(statuses));
            byPod.TryAdd(status.Endpoint, status);
        }

        ImmutableArray<PodEndpoint> endpoints = PodEndpointOrder.SortUnique(byPod.Keys);
        ImmutableArray<EndpointStatus> aligned = [.. endpoints.Select(e => byPod[e])];
        ImmutableArray<PodEndpoint> available = isPanic ? endpoints : EndpointStatus.AvailableOf(endpoints, aligned, EndpointStatus.CountAvailable(aligned));
        return new EndpointSet(service, endpoints, version, resolvedAt, ttl, false, null, null, aligned, available, isPanic);
    }
}
