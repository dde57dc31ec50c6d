using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Headless.Discovery;

/// <summary>
/// Maps a key to a pod with Maglev consistent hashing: a lookup table of prime size (at least 100 slots per
/// available pod, 257 to 1 048 573) is filled from each pod's permutation once per snapshot, and a pick is one
/// multiply and one array read, O(1) in the pod count. When one of N pods leaves (or becomes unavailable), about 1/N of
/// the keys move, and the pod's share of keys is even to within a few percent.
/// </summary>
/// <remarks>
/// Every client that sees the same available pods builds the same table: pods are hashed by identity
/// (<see cref="PodEndpoint.Key"/> and hostname) with <see cref="StableHash"/>, and keys given as text or bytes are hashed
/// the same way. Thread-safe; picks take no lock and allocate nothing. Create it with
/// <see cref="EndpointSelectors.ConsistentHash"/>.
/// </remarks>
public sealed class ConsistentHashSelector
{
    /// <summary>The smallest table.</summary>
    internal const int MinTableSize = 257;

    /// <summary>The largest table (about 8 MB of references on 64-bit).</summary>
    internal const int MaxTableSize = 1_048_573;

    private readonly int? _fixedTableSize;
    private readonly TimeProvider _timeProvider;
    private SnapshotTableCache<Table> _tables;

    internal ConsistentHashSelector(IHeadlessService service, int? tableSize, TimeProvider? timeProvider)
    {
        ArgumentNullException.ThrowIfNull(service);
        if (tableSize is { } size)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(size, 1, nameof(tableSize));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(size, MaxTableSize, nameof(tableSize));
            _fixedTableSize = NextPrime(size);
        }

        Service = service;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _tables = new SnapshotTableCache<Table>(service.Current, snapshot => Build(snapshot, _fixedTableSize));
    }

    /// <summary>The service the selector picks from.</summary>
    public IHeadlessService Service { get; }

    /// <summary>The size of the current lookup table (a prime), rebuilding it first if the snapshot changed.</summary>
    public int TableSize => CurrentTable().Slots.Length;

    /// <summary>Picks the pod for a key hash (for example from <see cref="StableHash"/>, or a hash you already have).</summary>
    /// <param name="keyHash">The key's 64-bit hash; all 64 bits should be well mixed.</param>
    /// <param name="endpoint">The pod, or <see langword="null"/> when none is available.</param>
    /// <returns><see langword="true"/> when a pod was picked.</returns>
    public bool TryPick(ulong keyHash, [NotNullWhen(true)] out PodEndpoint? endpoint)
    {
        PodEndpoint[] slots = CurrentTable().Slots;
        if (slots.Length == 0)
        {
            endpoint = null;
            return false;
        }

        endpoint = slots[Slot(keyHash, slots.Length)];
        return true;
    }

    /// <summary>Picks the pod for a key hash.</summary>
    /// <param name="keyHash">The key's 64-bit hash; all 64 bits should be well mixed.</param>
    /// <returns>The pod.</returns>
    /// <exception cref="NoEndpointAvailableException">No pod is available.</exception>
    public PodEndpoint Pick(ulong keyHash)
    {
        PodEndpoint[] slots = CurrentTable().Slots;
        return slots.Length != 0 ? slots[Slot(keyHash, slots.Length)] : throw NoEndpoint();
    }

    /// <summary>Picks the pod for a text key (hashed with <see cref="StableHash.Hash(ReadOnlySpan{char})"/>).</summary>
    /// <param name="key">The key, e.g. a user or tenant id.</param>
    /// <returns>The pod.</returns>
    /// <exception cref="NoEndpointAvailableException">No pod is available.</exception>
    public PodEndpoint Pick(ReadOnlySpan<char> key) => Pick(StableHash.Hash(key));

    /// <summary>Picks the pod for a binary key (hashed with <see cref="StableHash.Hash(ReadOnlySpan{byte})"/>).</summary>
    /// <param name="key">The key bytes.</param>
    /// <returns>The pod.</returns>
    /// <exception cref="NoEndpointAvailableException">No pod is available.</exception>
    public PodEndpoint Pick(ReadOnlySpan<byte> key) => Pick(StableHash.Hash(key));

    /// <summary>Picks the pod for a key hash and leases it (the outcome goes to passive health; see <see cref="EndpointLease"/>).</summary>
    /// <param name="keyHash">The key's 64-bit hash.</param>
    /// <returns>The lease; dispose it when the call ends.</returns>
    /// <exception cref="NoEndpointAvailableException">No pod is available.</exception>
    public EndpointLease Lease(ulong keyHash) => new(Service, Pick(keyHash), null, _timeProvider);

    /// <summary>Picks the pod for a text key and leases it.</summary>
    /// <param name="key">The key.</param>
    /// <returns>The lease; dispose it when the call ends.</returns>
    /// <exception cref="NoEndpointAvailableException">No pod is available.</exception>
    public EndpointLease Lease(ReadOnlySpan<char> key) => Lease(StableHash.Hash(key));

    /// <summary>Describes the selector.</summary>
    public override string ToString() => $"ConsistentHash over {Service.Name}";

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Slot(ulong keyHash, int size) => (int)Math.BigMul(keyHash, (ulong)size, out _);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Table CurrentTable() => _tables.Get(Service.Current);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private NoEndpointAvailableException NoEndpoint() => NoEndpointAvailableException.For(Service.Current);

    /// <summary>The table size used for <paramref name="podCount"/> pods: the first prime at or above 100 × count, within bounds.</summary>
    internal static int TableSizeFor(int podCount) =>
        NextPrime((int)Math.Clamp(100L * podCount, MinTableSize, MaxTableSize));

    internal static int NextPrime(int n)
    {
        for (int candidate = Math.Max(n, 2); ; candidate++)
        {
            if (IsPrime(candidate))
            {
                return candidate;
            }
        }
    }

    private static bool IsPrime(int n)
    {
        if (n < 4)
        {
            return n >= 2;
        }

        if (n % 2 == 0)
        {
            return false;
        }

        for (int d = 3; (long)d * d <= n; d += 2)
        {
            if (n % d == 0)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Maglev table population (Eisenbud et al., NSDI 2016, pseudocode 1).</summary>
    internal static PodEndpoint[] BuildSlots(PodEndpoint[] pods, int size)
    {
        int n = pods.Length;
        if (n == 0)
        {
            return [];
        }

        var offset = new int[n];
        var skip = new int[n];
        var next = new int[n];
        for (int i = 0; i < n; i++)
        {
            ulong h = StableHash.Of(pods[i]);
            offset[i] = (int)((h >> 32) % (uint)size);
            skip[i] = (int)((uint)h % (uint)(size - 1)) + 1;
        }

        var slots = new PodEndpoint[size];
        int filled = 0;
        while (true)
        {
            for (int i = 0; i < n; i++)
            {
                int c;
                do
                {
                    // (offset + j * skip) mod size, advanced incrementally; size is prime so every slot is reached.
                    c = (int)((offset[i] + ((long)next[i] * skip[i])) % size);
                    next[i]++;
                }
                while (slots[c] is not null);

                slots[c] = pods[i];
                if (++filled == size)
                {
                    return slots;
                }
            }
        }
    }

    private static Table Build(EndpointSet current, int? fixedSize)
    {
        PodEndpoint[] available = System.Runtime.InteropServices.ImmutableCollectionsMarshal.AsArray(current.Available)!;
        int size = fixedSize ?? TableSizeFor(available.Length);
        return new Table(current, BuildSlots(available, size));
    }

    private sealed record Table(EndpointSet Snapshot, PodEndpoint[] Slots) : SnapshotTable(Snapshot);
}
