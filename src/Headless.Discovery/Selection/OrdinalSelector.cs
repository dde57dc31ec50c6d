using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace Headless.Discovery;

/// <summary>
/// Picks StatefulSet pods by identity: the pod whose hostname is <c>&lt;set&gt;-&lt;ordinal&gt;</c>
/// (<see cref="PodEndpoint.StatefulSetName"/> and <see cref="PodEndpoint.Ordinal"/>, known when the service is resolved
/// through SRV records), e.g. the primary at ordinal 0. <see cref="Pick()"/> picks the default ordinal given at
/// creation; <see cref="Pick(int)"/> any other. Only pods of the StatefulSet named at creation count when one is named;
/// when none is, pods of every StatefulSet behind the service count.
/// </summary>
/// <remarks>
/// <para>
/// A lookup table indexed by ordinal is built once per snapshot, so a pick is O(1) in the pod count. Only available pods
/// are picked (in panic mode every pod is). A pick never guesses: when two available pods carry the ordinal asked for
/// (pods of two StatefulSets and no set named, or one pod name at two addresses while an answer is in flux), it fails
/// with <see cref="NoEndpointAvailableException"/> naming both pods, and <c>TryPick</c> returns
/// <see langword="false"/>. When the ordinal is absent or unavailable the exception says which, and lists the ordinals
/// (or StatefulSets) present.
/// </para>
/// <para>
/// A negative ordinal is a caller's mistake, not an absent pod: the factory, <c>Pick</c>, <c>TryPick</c> and
/// <c>Lease</c> all throw <see cref="ArgumentOutOfRangeException"/> for it. Thread-safe; picks take no lock and allocate
/// nothing.
/// </para>
/// </remarks>
public sealed class OrdinalSelector : IEndpointSelector
{
    private SnapshotTableCache<Table> _tables;

    internal OrdinalSelector(IHeadlessService service, string? statefulSet, int ordinal)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentOutOfRangeException.ThrowIfNegative(ordinal);
        if (statefulSet is not null)
        {
            string name = statefulSet.Trim().ToLowerInvariant();
            if (!PodEndpoint.IsStatefulSetName(name))
            {
                throw new ArgumentException(
                    $"'{statefulSet}' is not a StatefulSet name: 1 to 61 letters, digits and '-', starting with a letter or digit and not ending with '-'.",
                    nameof(statefulSet));
            }

            StatefulSetName = name;
        }

        Service = service;
        DefaultOrdinal = ordinal;
        _tables = new SnapshotTableCache<Table>(service.Current, Build);
    }

    /// <inheritdoc/>
    public IHeadlessService Service { get; }

    /// <summary>The ordinal that <see cref="Pick()"/>, <see cref="TryPick(out PodEndpoint?)"/> and <see cref="Lease()"/> pick.</summary>
    internal int DefaultOrdinal { get; }

    /// <summary>
    /// The StatefulSet whose pods this selector picks (lower case), or <see langword="null"/> for any StatefulSet behind
    /// the service (then an ordinal two sets share is ambiguous and never picked).
    /// </summary>
    internal string? StatefulSetName { get; }

    /// <inheritdoc/>
    public bool TryPick([NotNullWhen(true)] out PodEndpoint? endpoint) => TryPick(DefaultOrdinal, out endpoint);

    /// <inheritdoc/>
    public PodEndpoint Pick() => Pick(DefaultOrdinal);

    /// <summary>Picks the available pod with ordinal <paramref name="ordinal"/>.</summary>
    /// <param name="ordinal">The StatefulSet ordinal, 0 or more.</param>
    /// <param name="endpoint">The pod, or <see langword="null"/> when that ordinal is absent, unavailable or ambiguous.</param>
    /// <returns><see langword="true"/> when exactly one available pod has that ordinal.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="ordinal"/> is negative.</exception>
    public bool TryPick(int ordinal, [NotNullWhen(true)] out PodEndpoint? endpoint)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ordinal);
        endpoint = Lookup(CurrentTable(), ordinal);
        return endpoint is not null;
    }

    /// <summary>Picks the available pod with ordinal <paramref name="ordinal"/>.</summary>
    /// <param name="ordinal">The StatefulSet ordinal, 0 or more.</param>
    /// <returns>The pod.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="ordinal"/> is negative.</exception>
    /// <exception cref="NoEndpointAvailableException">
    /// No pod has that ordinal, it is unhealthy or ejected (outside panic mode), or two available pods have it (the
    /// message names both).
    /// </exception>
    public PodEndpoint Pick(int ordinal)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ordinal);
        Table table = CurrentTable();
        return Lookup(table, ordinal) ?? throw Missing(table, ordinal);
    }

    /// <inheritdoc/>
    public bool TryLease(out EndpointLease lease) => EndpointLease.TryStart(Service, Lookup(CurrentTable(), DefaultOrdinal), null, out lease);

    /// <inheritdoc/>
    public EndpointLease Lease() => Lease(DefaultOrdinal);

    /// <summary>Picks the pod with ordinal <paramref name="ordinal"/> and leases it (see <see cref="EndpointLease"/>).</summary>
    /// <param name="ordinal">The StatefulSet ordinal, 0 or more.</param>
    /// <returns>The lease; dispose it when the call ends.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="ordinal"/> is negative.</exception>
    /// <exception cref="NoEndpointAvailableException">No single available pod has that ordinal.</exception>
    public EndpointLease Lease(int ordinal) => new(Service, Pick(ordinal), null);

    /// <summary>Describes the selector.</summary>
    public override string ToString() => StatefulSetName is null
        ? string.Create(CultureInfo.InvariantCulture, $"Ordinal {DefaultOrdinal} over {Service.Name}")
        : string.Create(CultureInfo.InvariantCulture, $"Ordinal {StatefulSetName}-{DefaultOrdinal} over {Service.Name}");

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static PodEndpoint? Lookup(Table table, int ordinal)
    {
        PodEndpoint?[] byOrdinal = table.ByOrdinal;
        if ((uint)ordinal < (uint)byOrdinal.Length)
        {
            return byOrdinal[ordinal];
        }

        return table.Sparse?.GetValueOrDefault(ordinal);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Table CurrentTable() => _tables.Get(Service.Current);

    private bool Counts(PodEndpoint pod) =>
        pod.Ordinal.HasValue && (StatefulSetName is null || string.Equals(pod.StatefulSetName, StatefulSetName, StringComparison.Ordinal));

    private Table Build(EndpointSet current)
    {
        // A dense array as long as the pod count, which holds the ordinals of every StatefulSet behind the service
        // while its pods are all in the answer; ordinals beyond it (pods missing, odd naming) go to a dictionary.
        int dense = current.Count;
        var byOrdinal = new PodEndpoint?[dense];
        Dictionary<int, PodEndpoint>? sparse = null;
        Dictionary<int, (PodEndpoint First, PodEndpoint Second)>? ambiguous = null;
        foreach (PodEndpoint pod in current.Available)
        {
            if (!Counts(pod))
            {
                continue;
            }

            int ordinal = pod.Ordinal!.Value;
            if (ambiguous?.ContainsKey(ordinal) == true)
            {
                continue;
            }

            PodEndpoint? first = ordinal < dense ? byOrdinal[ordinal] : sparse?.GetValueOrDefault(ordinal);
            if (first is null)
            {
                if (ordinal < dense)
                {
                    byOrdinal[ordinal] = pod;
                }
                else
                {
                    (sparse ??= [])[ordinal] = pod;
                }

                continue;
            }

            // Two available pods claim the ordinal: the pick path finds nothing, the error path names both.
            (ambiguous ??= [])[ordinal] = (first, pod);
            if (ordinal < dense)
            {
                byOrdinal[ordinal] = null;
            }
            else
            {
                sparse!.Remove(ordinal);
            }
        }

        return new Table(current, byOrdinal, sparse, ambiguous);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private NoEndpointAvailableException Missing(Table table, int ordinal)
    {
        EndpointSet set = table.Snapshot;
        if (set.Count == 0)
        {
            return NoEndpointAvailableException.For(set, ordinal: ordinal);
        }

        string pod = StatefulSetName is null ? "pod" : $"pod of StatefulSet '{StatefulSetName}'";
        if (table.Ambiguous?.TryGetValue(ordinal, out (PodEndpoint First, PodEndpoint Second) pair) == true)
        {
            string detail = string.Equals(pair.First.StatefulSetName, pair.Second.StatefulSetName, StringComparison.Ordinal)
                ? string.Create(CultureInfo.InvariantCulture, $"ordinal {ordinal} is ambiguous: {pair.First} and {pair.Second} are both available under one pod name (an address change in flight?)")
                : string.Create(CultureInfo.InvariantCulture, $"ordinal {ordinal} is ambiguous: {pair.First} and {pair.Second} are both available; name the StatefulSet, e.g. EndpointSelectors.Ordinal(service, \"{pair.First.StatefulSetName}\", {ordinal})");
            return NoEndpointAvailableException.For(set, detail, ordinal);
        }

        for (int i = 0; i < set.Count; i++)
        {
            if (set.Endpoints[i].Ordinal == ordinal && Counts(set.Endpoints[i]))
            {
                EndpointStatus status = set.Statuses[i];
                string health = status.IsEjected ? "ejected" : status.Health.ToString().ToLowerInvariant();
                return NoEndpointAvailableException.For(set, string.Create(CultureInfo.InvariantCulture, $"the {pod} with ordinal {ordinal} ({status.Endpoint}) is {health}"), ordinal);
            }
        }

        string[] sets = [.. set.Endpoints.Select(e => e.StatefulSetName).OfType<string>().Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        string present = string.Join(", ", set.Endpoints.Where(Counts).Select(e => e.Ordinal!.Value).Distinct().Order());
        string reason = sets.Length == 0
            ? string.Create(CultureInfo.InvariantCulture, $"no pod has ordinal {ordinal}; none of its {set.Count} pod(s) has a StatefulSet hostname (resolve through SRV records to learn them)")
            : present.Length == 0
                ? string.Create(CultureInfo.InvariantCulture, $"no pod belongs to StatefulSet '{StatefulSetName}' (StatefulSets present: {string.Join(", ", sets)})")
                : string.Create(CultureInfo.InvariantCulture, $"no {pod} has ordinal {ordinal} (ordinals present: {present})");
        return NoEndpointAvailableException.For(set, reason, ordinal);
    }

    private sealed record Table(
        EndpointSet Snapshot,
        PodEndpoint?[] ByOrdinal,
        Dictionary<int, PodEndpoint>? Sparse,
        Dictionary<int, (PodEndpoint First, PodEndpoint Second)>? Ambiguous) : SnapshotTable(Snapshot);
}
