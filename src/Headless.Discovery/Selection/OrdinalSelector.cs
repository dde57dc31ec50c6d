using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace Headless.Discovery;

/// <summary>
/// Picks StatefulSet pods by identity: the pod whose hostname is <c>&lt;set&gt;-&lt;ordinal&gt;</c>
/// (<see cref="PodEndpoint.StatefulSetName"/> and <see cref="PodEndpoint.Ordinal"/>, known when the service is resolved
/// through SRV records), e.g. the primary at ordinal 0: the ordinal given at creation (make one selector per ordinal you
/// address). Only pods of the StatefulSet named at creation count when one is named; when none is, pods of every
/// StatefulSet behind the service count. Made by <see cref="EndpointSelectors.Ordinal(IHeadlessService, int)"/>.
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
/// A negative ordinal is a caller's mistake, not an absent pod: the factory throws
/// <see cref="ArgumentOutOfRangeException"/> for it. Thread-safe; picks take no lock and allocate nothing.
/// </para>
/// </remarks>
internal sealed class OrdinalSelector : IEndpointSelector
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

    /// <summary>The ordinal this selector picks.</summary>
    internal int DefaultOrdinal { get; }

    /// <summary>
    /// The StatefulSet whose pods this selector picks (lower case), or <see langword="null"/> for any StatefulSet behind
    /// the service (then an ordinal two sets share is ambiguous and never picked).
    /// </summary>
    internal string? StatefulSetName { get; }

    /// <inheritdoc/>
    public bool TryPick([NotNullWhen(true)] out PodEndpoint? endpoint)
    {
        endpoint = Lookup(CurrentTable(), DefaultOrdinal);
        return endpoint is not null;
    }

    /// <inheritdoc/>
    public PodEndpoint Pick()
    {
        Table table = CurrentTable();
        return Lookup(table, DefaultOrdinal) ?? throw Missing(table, DefaultOrdinal);
    }

    /// <inheritdoc/>
    public bool TryLease(out EndpointLease lease) => EndpointLease.TryStart(Service, Lookup(CurrentTable(), DefaultOrdinal), null, out lease);

    /// <inheritdoc/>
    public EndpointLease Lease() => new(Service, Pick(), null);

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
            return NoEndpointAvailableException.For(set, set.Version == 0 ? null : string.Create(CultureInfo.InvariantCulture, $"it has no ready pods, so none with ordinal {ordinal}"));
        }

        string pod = StatefulSetName is null ? "pod" : $"pod of StatefulSet '{StatefulSetName}'";
        if (table.Ambiguous?.TryGetValue(ordinal, out (PodEndpoint First, PodEndpoint Second) pair) == true)
        {
            string detail = string.Equals(pair.First.StatefulSetName, pair.Second.StatefulSetName, StringComparison.Ordinal)
                ? string.Create(CultureInfo.InvariantCulture, $"ordinal {ordinal} is ambiguous: {pair.First} and {pair.Second} are both available under one pod name (an address change in flight?)")
                : string.Create(CultureInfo.InvariantCulture, $"ordinal {ordinal} is ambiguous: {pair.First} and {pair.Second} are both available; name the StatefulSet, e.g. EndpointSelectors.Ordinal(service, \"{pair.First.StatefulSetName}\", {ordinal})");
            return NoEndpointAvailableException.For(set, detail);
        }

        for (int i = 0; i < set.Count; i++)
        {
            if (set.Endpoints[i].Ordinal == ordinal && Counts(set.Endpoints[i]))
            {
                EndpointStatus status = set.Statuses[i];
                string health = status.IsEjected ? "ejected" : status.Health.ToString().ToLowerInvariant();
                return NoEndpointAvailableException.For(set, string.Create(CultureInfo.InvariantCulture, $"the {pod} with ordinal {ordinal} ({status.Endpoint}) is {health}"));
            }
        }

        string[] sets = [.. set.Endpoints.Select(e => e.StatefulSetName).OfType<string>().Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        string present = string.Join(", ", set.Endpoints.Where(Counts).Select(e => e.Ordinal!.Value).Distinct().Order());
        string reason = sets.Length == 0
            ? string.Create(CultureInfo.InvariantCulture, $"no pod has ordinal {ordinal}; none of its {set.Count} pod(s) has a StatefulSet hostname (resolve through SRV records to learn them)")
            : present.Length == 0
                ? string.Create(CultureInfo.InvariantCulture, $"no pod belongs to StatefulSet '{StatefulSetName}', so none has ordinal {ordinal} (StatefulSets present: {string.Join(", ", sets)})")
                : string.Create(CultureInfo.InvariantCulture, $"no {pod} has ordinal {ordinal} (ordinals present: {present})");
        return NoEndpointAvailableException.For(set, reason);
    }

    private sealed record Table(
        EndpointSet Snapshot,
        PodEndpoint?[] ByOrdinal,
        Dictionary<int, PodEndpoint>? Sparse,
        Dictionary<int, (PodEndpoint First, PodEndpoint Second)>? Ambiguous) : SnapshotTable(Snapshot);
}
