using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace Headless.Discovery;

/// <summary>
/// Picks StatefulSet pods by identity: the pod whose hostname is <c>&lt;set&gt;-&lt;ordinal&gt;</c>
/// (<see cref="PodEndpoint.Ordinal"/>, known when the service is resolved through SRV records), e.g. the primary at
/// ordinal 0. <see cref="Pick()"/> picks the default ordinal given at creation; <see cref="Pick(int)"/> any other.
/// </summary>
/// <remarks>
/// A lookup table indexed by ordinal is built once per snapshot, so a pick is O(1) in the pod count. Only available pods
/// are picked (in panic mode every pod is). When several pods carry one ordinal (an address change in flight), the first
/// available in snapshot order wins. When the ordinal is absent or unavailable, <see cref="NoEndpointAvailableException"/>
/// says which, and lists the ordinals present. Thread-safe; picks take no lock and allocate nothing.
/// </remarks>
public sealed class OrdinalSelector : IEndpointSelector
{
    private readonly TimeProvider _timeProvider;
    private SnapshotTableCache<Table> _tables;

    internal OrdinalSelector(IHeadlessService service, int ordinal, TimeProvider? timeProvider)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentOutOfRangeException.ThrowIfNegative(ordinal);
        Service = service;
        DefaultOrdinal = ordinal;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _tables = new SnapshotTableCache<Table>(service.Current, Build);
    }

    /// <inheritdoc/>
    public IHeadlessService Service { get; }

    /// <summary>The ordinal that <see cref="Pick()"/>, <see cref="TryPick(out PodEndpoint?)"/> and <see cref="Lease()"/> pick.</summary>
    public int DefaultOrdinal { get; }

    /// <inheritdoc/>
    public bool TryPick([NotNullWhen(true)] out PodEndpoint? endpoint) => TryPick(DefaultOrdinal, out endpoint);

    /// <inheritdoc/>
    public PodEndpoint Pick() => Pick(DefaultOrdinal);

    /// <summary>Picks the available pod with ordinal <paramref name="ordinal"/>.</summary>
    /// <param name="ordinal">The StatefulSet ordinal, 0 or more.</param>
    /// <param name="endpoint">The pod, or <see langword="null"/> when that ordinal is absent or unavailable.</param>
    /// <returns><see langword="true"/> when the pod was found.</returns>
    public bool TryPick(int ordinal, [NotNullWhen(true)] out PodEndpoint? endpoint)
    {
        endpoint = Lookup(CurrentTable(), ordinal);
        return endpoint is not null;
    }

    /// <summary>Picks the available pod with ordinal <paramref name="ordinal"/>.</summary>
    /// <param name="ordinal">The StatefulSet ordinal, 0 or more.</param>
    /// <returns>The pod.</returns>
    /// <exception cref="NoEndpointAvailableException">No pod has that ordinal, or it is unhealthy or ejected (outside panic mode).</exception>
    public PodEndpoint Pick(int ordinal)
    {
        Table table = CurrentTable();
        return Lookup(table, ordinal) ?? throw Missing(table, ordinal);
    }

    /// <inheritdoc/>
    public bool TryLease(out EndpointLease lease)
    {
        if (TryPick(DefaultOrdinal, out PodEndpoint? endpoint))
        {
            lease = new EndpointLease(Service, endpoint, null, _timeProvider);
            return true;
        }

        lease = default;
        return false;
    }

    /// <inheritdoc/>
    public EndpointLease Lease() => Lease(DefaultOrdinal);

    /// <summary>Picks the pod with ordinal <paramref name="ordinal"/> and leases it (see <see cref="EndpointLease"/>).</summary>
    /// <param name="ordinal">The StatefulSet ordinal, 0 or more.</param>
    /// <returns>The lease; dispose it when the call ends.</returns>
    /// <exception cref="NoEndpointAvailableException">No available pod has that ordinal.</exception>
    public EndpointLease Lease(int ordinal) => new(Service, Pick(ordinal), null, _timeProvider);

    /// <summary>Describes the selector.</summary>
    public override string ToString() => $"Ordinal {DefaultOrdinal} over {Service.Name}";

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static PodEndpoint? Lookup(Table table, int ordinal)
    {
        PodEndpoint?[] byOrdinal = table.ByOrdinal;
        if ((uint)ordinal < (uint)byOrdinal.Length)
        {
            return byOrdinal[ordinal];
        }

        return table.Sparse is { } sparse && ordinal >= 0 ? sparse.GetValueOrDefault(ordinal) : null;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Table CurrentTable() => _tables.Get(Service.Current);

    private static Table Build(EndpointSet current)
    {
        int max = -1;
        foreach (PodEndpoint pod in current.Available)
        {
            max = Math.Max(max, pod.Ordinal ?? -1);
        }

        // A dense array up to a sane bound; ordinals far beyond the pod count (odd naming) go to a dictionary.
        int dense = Math.Min(max + 1, (4 * current.Count) + 64);
        var byOrdinal = new PodEndpoint?[dense];
        Dictionary<int, PodEndpoint>? sparse = null;
        foreach (PodEndpoint pod in current.Available)
        {
            if (pod.Ordinal is not { } ordinal)
            {
                continue;
            }

            if (ordinal < dense)
            {
                byOrdinal[ordinal] ??= pod;
            }
            else
            {
                (sparse ??= []).TryAdd(ordinal, pod);
            }
        }

        return new Table(current, byOrdinal, sparse);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static NoEndpointAvailableException Missing(Table table, int ordinal)
    {
        EndpointSet set = table.Snapshot;
        if (set.Count == 0)
        {
            return NoEndpointAvailableException.For(set, ordinal: ordinal);
        }

        EndpointStatus? status = null;
        for (int i = 0; i < set.Count; i++)
        {
            if (set.Endpoints[i].Ordinal == ordinal)
            {
                status = set.Statuses[i];
                break;
            }
        }

        string present = string.Join(", ", set.Endpoints.Where(e => e.Ordinal.HasValue).Select(e => e.Ordinal!.Value).Distinct().Order());
        string detail = status is not null
            ? string.Create(CultureInfo.InvariantCulture, $"the pod with ordinal {ordinal} ({status.Endpoint}) is {(status.IsEjected ? "ejected" : status.Health.ToString().ToLowerInvariant())}")
            : present.Length == 0
                ? string.Create(CultureInfo.InvariantCulture, $"no pod has ordinal {ordinal}; none of its {set.Count} pod(s) has a StatefulSet hostname (resolve through SRV records to learn them)")
                : string.Create(CultureInfo.InvariantCulture, $"no pod has ordinal {ordinal} (ordinals present: {present})");
        return NoEndpointAvailableException.For(set, detail, ordinal);
    }

    private sealed record Table(EndpointSet Snapshot, PodEndpoint?[] ByOrdinal, Dictionary<int, PodEndpoint>? Sparse) : SnapshotTable(Snapshot);
}
