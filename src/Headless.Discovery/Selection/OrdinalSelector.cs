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
/// The pod is found once per snapshot (one pass over the available pods), so a pick is one read, O(1) in the pod count.
/// Only available pods are picked (in panic mode every pod is). A pick never guesses: when two available pods carry the ordinal asked for
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
        Ordinal = ordinal;
        _tables = new SnapshotTableCache<Table>(service.Current, Build);
    }

    /// <inheritdoc/>
    public IHeadlessService Service { get; }

    /// <summary>The ordinal this selector picks.</summary>
    internal int Ordinal { get; }

    /// <summary>
    /// The StatefulSet whose pods this selector picks (lower case), or <see langword="null"/> for any StatefulSet behind
    /// the service (then an ordinal two sets share is ambiguous and never picked).
    /// </summary>
    internal string? StatefulSetName { get; }

    /// <inheritdoc/>
    public bool TryPick([NotNullWhen(true)] out PodEndpoint? endpoint)
    {
        endpoint = CurrentTable().Pod;
        return endpoint is not null;
    }

    /// <inheritdoc/>
    public PodEndpoint Pick()
    {
        Table table = CurrentTable();
        return table.Pod ?? throw Missing(table);
    }

    /// <inheritdoc/>
    public bool TryLease(out EndpointLease lease) => EndpointLease.TryStart(Service, CurrentTable().Pod, null, out lease);

    /// <inheritdoc/>
    public EndpointLease Lease() => new(Service, Pick(), null);

    /// <summary>Describes the selector.</summary>
    public override string ToString() => StatefulSetName is null
        ? string.Create(CultureInfo.InvariantCulture, $"Ordinal {Ordinal} over {Service.Name}")
        : string.Create(CultureInfo.InvariantCulture, $"Ordinal {StatefulSetName}-{Ordinal} over {Service.Name}");

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Table CurrentTable() => _tables.Get(Service.Current);

    private bool Counts(PodEndpoint pod) =>
        pod.Ordinal.HasValue && (StatefulSetName is null || string.Equals(pod.StatefulSetName, StatefulSetName, StringComparison.Ordinal));

    /// <summary>The one available pod with this ordinal; when two claim it, neither (a pick never guesses) and both for the error.</summary>
    private Table Build(EndpointSet current)
    {
        PodEndpoint? found = null;
        foreach (PodEndpoint pod in current.Available)
        {
            if (pod.Ordinal != Ordinal || !Counts(pod))
            {
                continue;
            }

            if (found is not null)
            {
                return new Table(current, null, (found, pod));
            }

            found = pod;
        }

        return new Table(current, found, null);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private NoEndpointAvailableException Missing(Table table)
    {
        EndpointSet set = table.Snapshot;
        int ordinal = Ordinal;
        if (set.Count == 0)
        {
            return NoEndpointAvailableException.For(set, set.Version == 0 ? null : string.Create(CultureInfo.InvariantCulture, $"it has no ready pods, so none with ordinal {ordinal}"));
        }

        string pod = StatefulSetName is null ? "pod" : $"pod of StatefulSet '{StatefulSetName}'";
        if (table.Ambiguous is { } pair)
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

    /// <summary>What a pick reads for one snapshot: <paramref name="Pod"/>, or the two pods that make the ordinal <paramref name="Ambiguous"/>.</summary>
    private sealed record Table(EndpointSet Snapshot, PodEndpoint? Pod, (PodEndpoint First, PodEndpoint Second)? Ambiguous) : SnapshotTable(Snapshot);
}
