using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Headless.Discovery;

/// <summary>
/// Maps a key to a pod with Maglev consistent hashing: a lookup table of 131 072 slots is filled from each available
/// pod's permutation once per snapshot, and a pick is one multiply and two array reads, O(1) in the pod count. With N
/// pods available, one pod leaving or joining (DNS membership, passive ejection or active health) moves at most
/// 1.5/N + 1 % of the keys, and at most 2 % of the keys whose pod stayed (tested over generated sets of 2 to 2 048
/// pods, where the latter never exceeded 0.9 %). Each pod owns ⌊M/N⌋ or ⌈M/N⌉ of the M slots, so its share of uniformly
/// hashed keys is within 1/⌊M/N⌋ of 1/N (under 1.6 % up to 2 048 pods).
/// </summary>
/// <remarks>
/// <para>
/// The table size follows neither health nor small membership changes: it is 131 072 slots while the service has up to
/// 2 048 pods (healthy or not), 524 288 up to 8 192 and 1 048 576 above, so every pod keeps at least 64 slots up to
/// 16 384 pods. Crossing 2 048 or 8 192 pods moves nearly every key, once. A key hash h goes to slot
/// ⌊h × M / 2^64⌋ of a table of M slots.
/// </para>
/// <para>
/// Every client that sees the same available pods, and the same size step, builds the same table, whatever the order of
/// the DNS answer or the snapshots before: pods are hashed by identity (<see cref="PodEndpoint.Key"/> and hostname) with
/// the key hash below and taken in sorted order.
/// </para>
/// <para>
/// The key hash (used by the text and byte overloads, and the same in every process, platform and version of this
/// library): 64-bit FNV-1a over the key's bytes (offset basis 0xCBF29CE484222325, prime 0x100000001B3; text as its
/// UTF-16 code units, two bytes each, low byte first), xored with the byte count, then the SplitMix64 finalizer
/// (z ^= z &gt;&gt; 30; z *= 0xBF58476D1CE4E5B9; z ^= z &gt;&gt; 27; z *= 0x94D049BB133111EB; z ^= z &gt;&gt; 31). It is not
/// XxHash64 or any other library's hash. Compute it yourself to call <see cref="Pick(ulong)"/> with the slot a text or
/// byte key would get, or pass any other well-mixed 64-bit hash of your own.
/// </para>
/// <para>
/// Thread-safe; picks take no lock and allocate nothing. The first pick after a snapshot change rebuilds the table
/// (about 3.5 ms and 530 KB at 131 072 slots; see benchmarks/results). Create it with
/// <see cref="EndpointSelectors.ConsistentHash"/>.
/// </para>
/// </remarks>
public sealed class ConsistentHashSelector
{
    private SnapshotTableCache<Table> _tables;

    internal ConsistentHashSelector(IHeadlessService service)
    {
        ArgumentNullException.ThrowIfNull(service);
        Service = service;
        _tables = new SnapshotTableCache<Table>(service.Current, Build);
    }

    /// <summary>The service the selector picks from.</summary>
    private IHeadlessService Service { get; }

    /// <summary>
    /// Picks the pod for a key hash: the FNV-1a + SplitMix64 key hash described in the remarks (what
    /// <see cref="Pick(ReadOnlySpan{char})"/> computes), or a well-mixed 64-bit hash you already have.
    /// </summary>
    /// <param name="keyHash">The key's 64-bit hash, well mixed (its high bits choose the slot).</param>
    /// <param name="endpoint">The pod, or <see langword="null"/> when none is available.</param>
    /// <returns><see langword="true"/> when a pod was picked.</returns>
    public bool TryPick(ulong keyHash, [NotNullWhen(true)] out PodEndpoint? endpoint)
    {
        endpoint = Choose(keyHash);
        return endpoint is not null;
    }

    /// <summary>
    /// Picks the pod for a key hash: the FNV-1a + SplitMix64 key hash described in the remarks (what
    /// <see cref="Pick(ReadOnlySpan{char})"/> computes), or a well-mixed 64-bit hash you already have.
    /// </summary>
    /// <param name="keyHash">The key's 64-bit hash, well mixed (its high bits choose the slot).</param>
    /// <returns>The pod.</returns>
    /// <exception cref="NoEndpointAvailableException">No pod is available.</exception>
    public PodEndpoint Pick(ulong keyHash) => Choose(keyHash) ?? throw NoEndpoint();

    /// <summary>Picks the pod for a text key (its UTF-16 code units hashed with the key hash of the remarks).</summary>
    /// <param name="key">The key, e.g. a user or tenant id.</param>
    /// <returns>The pod.</returns>
    /// <exception cref="NoEndpointAvailableException">No pod is available.</exception>
    public PodEndpoint Pick(ReadOnlySpan<char> key) => Pick(StableHash.Hash(key));

    /// <summary>Picks the pod for a binary key (hashed with the key hash of the remarks).</summary>
    /// <param name="key">The key bytes.</param>
    /// <returns>The pod.</returns>
    /// <exception cref="NoEndpointAvailableException">No pod is available.</exception>
    public PodEndpoint Pick(ReadOnlySpan<byte> key) => Pick(StableHash.Hash(key));

    /// <summary>Picks the pod for a key hash and leases it (the outcome goes to passive health; see <see cref="EndpointLease"/>).</summary>
    /// <param name="keyHash">The key's 64-bit hash.</param>
    /// <returns>The lease; dispose it when the call ends.</returns>
    /// <exception cref="NoEndpointAvailableException">No pod is available.</exception>
    public EndpointLease Lease(ulong keyHash) => new(Service, Pick(keyHash), null);

    /// <summary>Picks the pod for a text key (hashed like <see cref="Pick(ReadOnlySpan{char})"/>) and leases it.</summary>
    /// <param name="key">The key.</param>
    /// <returns>The lease; dispose it when the call ends.</returns>
    /// <exception cref="NoEndpointAvailableException">No pod is available.</exception>
    public EndpointLease Lease(ReadOnlySpan<char> key) => Lease(StableHash.Hash(key));

    /// <summary>Describes the selector.</summary>
    public override string ToString() => $"ConsistentHash over {Service.Name}";

    /// <summary>The pod of <paramref name="keyHash"/>'s slot, or <see langword="null"/> when no pod is available.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private PodEndpoint? Choose(ulong keyHash)
    {
        Table table = CurrentTable();
        int[] slots = table.Slots;
        return slots.Length != 0 ? table.Pods[slots[Slot(keyHash, slots.Length)]] : null;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Slot(ulong keyHash, int size) => (int)Math.BigMul(keyHash, (ulong)size, out _);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Table CurrentTable() => _tables.Get(Service.Current);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private NoEndpointAvailableException NoEndpoint() => NoEndpointAvailableException.For(Service.Current);

    private static Table Build(EndpointSet current)
    {
        PodEndpoint[] available = System.Runtime.InteropServices.ImmutableCollectionsMarshal.AsArray(current.Available)!;
        var keys = new ulong[available.Length];
        for (int i = 0; i < keys.Length; i++)
        {
            keys[i] = StableHash.Of(available[i]);
        }

        // Sized by every pod of the snapshot, not the available ones, so health changes never resize the table.
        return new Table(current, available, MaglevTable.Populate(keys, MaglevTable.SizeFor(current.Count)));
    }

    /// <summary>The table: <paramref name="Slots"/> holds indexes into <paramref name="Pods"/> (the available pods, sorted).</summary>
    private sealed record Table(EndpointSet Snapshot, PodEndpoint[] Pods, int[] Slots) : SnapshotTable(Snapshot);
}
