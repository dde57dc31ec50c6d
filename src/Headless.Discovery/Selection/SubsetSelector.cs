using System.Runtime.CompilerServices;

namespace Headless.Discovery;

/// <summary>
/// Deterministic subsetting: each client talks to a stable subset of <c>k</c> of the N available pods, chosen by
/// rendezvous (highest random weight) hashing of (client id, pod identity), then round robin within the subset.
/// </summary>
/// <remarks>
/// Each pod ranks each client independently, so across many clients every pod is in about k/N of the subsets (binomial
/// spread), and when a pod leaves or joins only the clients that ranked it in their top k change one member: the subset
/// moves by one pod at most per pod of churn. Every client computes the same subset for the same id and pods.
/// </remarks>
internal sealed class SubsetSelector : EndpointSelectorBase
{
    private readonly ulong _clientHash;
    private readonly RoundRobinCursor _cursor;
    private SnapshotTableCache<Table> _tables;

    internal SubsetSelector(IHeadlessService service, int size, string clientId)
        : base(service)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        ArgumentException.ThrowIfNullOrEmpty(clientId);
        Size = size;
        _clientHash = StableHash.Hash(clientId.AsSpan());
        _cursor = new RoundRobinCursor((int)_clientHash);
        _tables = new SnapshotTableCache<Table>(service.Current, Build);
    }

    internal int Size { get; }

    protected override PodEndpoint? Choose(out LeaseTracker? tracker)
    {
        tracker = null;
        PodEndpoint[] subset = CurrentTable().Subset;
        return subset.Length != 0 ? subset[_cursor.Next(subset.Length)] : null;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Table CurrentTable() => _tables.Get(Service.Current);

    private Table Build(EndpointSet current) => new(current, Choose(AvailableOf(current), Size, _clientHash));

    /// <summary>The top <paramref name="size"/> pods by rendezvous score for <paramref name="clientHash"/>, in snapshot order.</summary>
    internal static PodEndpoint[] Choose(PodEndpoint[] available, int size, ulong clientHash)
    {
        var scores = new ulong[available.Length];
        var order = new int[available.Length];
        for (int i = 0; i < available.Length; i++)
        {
            scores[i] = ~StableHash.Combine(clientHash, StableHash.Of(available[i]));
            order[i] = i;
        }

        // Ascending by inverted score = descending by score.
        Array.Sort(scores, order);
        int count = Math.Min(size, available.Length);
        Array.Sort(order, 0, count);
        var subset = new PodEndpoint[count];
        for (int i = 0; i < count; i++)
        {
            subset[i] = available[order[i]];
        }

        return subset;
    }

    private sealed record Table(EndpointSet Snapshot, PodEndpoint[] Subset) : SnapshotTable(Snapshot);
}
