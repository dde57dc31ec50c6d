using System.Runtime.CompilerServices;

namespace Headless.Discovery;

/// <summary>
/// Power of two choices: two distinct random available pods, the one with fewer outstanding leases wins (the first on
/// a tie). Outstanding counts follow the pod identity across snapshots; plain picks (without a lease) count nothing.
/// </summary>
internal sealed class PowerOfTwoChoicesSelector : EndpointSelectorBase
{
    private readonly FastRandom _random;
    private readonly Lock _rebuild = new();
    private Dictionary<PodEndpoint, OutstandingCounter> _counters = [];
    private Table _table;

    internal PowerOfTwoChoicesSelector(IHeadlessService service, int? seed)
        : base(service)
    {
        _random = new FastRandom(seed);
        _table = Build(service.Current);
    }

    protected override PodEndpoint? Choose(out LeaseTracker? tracker)
    {
        int index = ChooseIndex(out Table table);
        if (index < 0)
        {
            tracker = null;
            return null;
        }

        // A lease counts as outstanding on the pod's counter; a plain pick ignores it.
        tracker = table.Counters[index];
        return table.Endpoints[index];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int ChooseIndex(out Table table)
    {
        EndpointSet current = Service.Current;
        table = Volatile.Read(ref _table);
        if (!ReferenceEquals(table.Snapshot, current))
        {
            table = Rebuild(current);
        }

        OutstandingCounter[] counters = table.Counters;
        int n = counters.Length;
        if (n <= 1)
        {
            return n - 1;
        }

        int a = _random.Next(n);
        int b = _random.Next(n - 1);
        if (b >= a)
        {
            b++;
        }

        return counters[b].Value < counters[a].Value ? b : a;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private Table Rebuild(EndpointSet current)
    {
        lock (_rebuild)
        {
            Table table = _table;
            if (ReferenceEquals(table.Snapshot, current))
            {
                return table;
            }

            table = Build(current);
            Volatile.Write(ref _table, table);
            return table;
        }
    }

    private Table Build(EndpointSet current)
    {
        PodEndpoint[] available = AvailableOf(current);
        var counters = new OutstandingCounter[available.Length];
        var next = new Dictionary<PodEndpoint, OutstandingCounter>(available.Length);
        for (int i = 0; i < available.Length; i++)
        {
            // Keep the live count of pods that stay, so in-flight work still weighs after a refresh.
            counters[i] = _counters.GetValueOrDefault(available[i]) ?? new OutstandingCounter();
            next[available[i]] = counters[i];
        }

        _counters = next;
        return new Table(current, available, counters);
    }

    private sealed record Table(EndpointSet Snapshot, PodEndpoint[] Endpoints, OutstandingCounter[] Counters);
}
