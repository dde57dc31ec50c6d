using System.Runtime.CompilerServices;

namespace Headless.Discovery;

/// <summary>A selector's precomputed table, built from one snapshot.</summary>
/// <param name="Snapshot">The snapshot the table was built from.</param>
internal abstract record SnapshotTable(EndpointSet Snapshot);

/// <summary>
/// Holds a selector's table and rebuilds it once per snapshot change: the pick path is one volatile read of the
/// service's <see cref="IHeadlessService.Current"/>, one of the table and a reference compare — no lock, no allocation.
/// Rebuilds take a lock so concurrent pickers build a new table once. Keep it in a non-readonly field.
/// </summary>
/// <typeparam name="TTable">The selector's table type.</typeparam>
internal struct SnapshotTableCache<TTable>
    where TTable : SnapshotTable
{
    private readonly Lock _rebuild;
    private readonly Func<EndpointSet, TTable> _build;
    private TTable _table;

    public SnapshotTableCache(EndpointSet initial, Func<EndpointSet, TTable> build)
    {
        _rebuild = new Lock();
        _build = build;
        _table = build(initial);
    }

    /// <summary>The table for <paramref name="current"/>, rebuilt first if it was built from another snapshot.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TTable Get(EndpointSet current)
    {
        TTable table = Volatile.Read(ref _table);
        return ReferenceEquals(table.Snapshot, current) ? table : Rebuild(current);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private TTable Rebuild(EndpointSet current)
    {
        lock (_rebuild)
        {
            TTable table = _table;
            if (!ReferenceEquals(table.Snapshot, current))
            {
                table = _build(current);
                Volatile.Write(ref _table, table);
            }

            return table;
        }
    }
}
