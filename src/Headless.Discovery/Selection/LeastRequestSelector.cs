using System.Runtime.CompilerServices;

namespace Headless.Discovery;

/// <summary>
/// Least request (Envoy's <c>LEAST_REQUEST</c>): <c>k</c> random available pods (two distinct ones for <c>k</c> = 2,
/// else drawn independently, as in Envoy), the one with the fewest outstanding leases wins; with <c>k</c> or fewer pods, every pod is compared (from a random start, so ties spread).
/// With a per-pod limit, a pod holding that many leases is skipped; when every sampled pod is at the limit the others
/// are scanned, and when all are, there is no pod to pick. A lease reserves its slot atomically, so the limit holds
/// under concurrency. Outstanding counts follow the pod identity across snapshots; plain picks count nothing.
/// </summary>
internal sealed class LeastRequestSelector : EndpointSelectorBase
{
    /// <summary>The largest choice count: the most pods one pick draws and compares.</summary>
    internal const int MaxChoiceCount = 64;

    private readonly FastRandom _random;
    private readonly int _choiceCount;
    private readonly int _limit;
    private readonly SlowStart? _slowStart;
    private readonly Lock _rebuild = new();
    private Dictionary<PodEndpoint, OutstandingCounter> _counters = [];
    private Table _table;

    internal LeastRequestSelector(IHeadlessService service, int choiceCount, int? maxLeasesPerPod, int? seed, SlowStart? slowStart = null)
        : base(service)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(choiceCount, 2);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(choiceCount, MaxChoiceCount);
        if (maxLeasesPerPod is { } max)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(max, 1, nameof(maxLeasesPerPod));
        }

        _choiceCount = choiceCount;
        _limit = maxLeasesPerPod ?? int.MaxValue;
        _random = new FastRandom(seed);
        _slowStart = slowStart;
        _table = Build(service.Current);
    }

    protected override PodEndpoint? Choose(out LeaseTracker? tracker)
    {
        int index = ChooseIndex(out Table table);
        if (index < 0)
        {
            if (table.Counters.Length > 0)
            {
                // Pods are available, but each holds its limit of leases.
                DiscoveryTelemetry.LeaseRejections.Add(1, new KeyValuePair<string, object?>(DiscoveryTelemetry.ServiceTag, Service.Name.Value));
            }

            tracker = null;
            return null;
        }

        // A lease counts as outstanding on the pod's counter; a plain pick ignores it.
        tracker = table.Counters[index];
        return table.Endpoints[index];
    }

    /// <summary><c>LeastRequest(k, max L leases/pod, slow start …) over …</c>, naming only what is set.</summary>
    public override string ToString() =>
        $"LeastRequest({_choiceCount}{(_limit == int.MaxValue ? string.Empty : $", max {_limit} leases/pod")}{(_slowStart is null ? string.Empty : ", " + _slowStart.Description)}) over {Service.Name}";

    protected override string? NoEndpointDetail(EndpointSet set) =>
        _limit != int.MaxValue && set.Available.Length > 0
            ? $"each of its {set.Available.Length} available pod(s) holds {_limit} outstanding lease(s), the per-pod limit"
            : null;

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
        if (table.Ramp is { } ramp && ramp.IsRamping(out long now))
        {
            return ChooseRamping(counters, ramp, now);
        }

        int n = counters.Length;
        if (n <= _choiceCount)
        {
            return Scan(counters);
        }

        if (_choiceCount == 2)
        {
            int a = _random.Next(n);
            int b = _random.Next(n - 1);
            if (b >= a)
            {
                b++;
            }

            // Each count read once: they move under concurrent leases, and the pick path pays for every read.
            int va = counters[a].Value;
            int vb = counters[b].Value;
            return vb < va ? (vb < _limit ? b : Scan(counters)) : (va < _limit ? a : Scan(counters));
        }

        return Sample(counters);
    }

    /// <summary>
    /// The least loaded of <see cref="_choiceCount"/> random pods below the limit, drawn independently as in Envoy (a pod
    /// may be drawn twice; with more pods than choices that only costs a comparison); a scan when none is below it.
    /// </summary>
    private int Sample(OutstandingCounter[] counters)
    {
        int n = counters.Length;
        int best = -1;
        int bestValue = _limit;
        for (int c = 0; c < _choiceCount; c++)
        {
            int i = _random.Next(n);
            int value = counters[i].Value;
            if (value < bestValue)
            {
                best = i;
                bestValue = value;
            }
        }

        return best >= 0 ? best : Scan(counters);
    }

    /// <summary>
    /// While pods ramp (slow start): <see cref="_choiceCount"/> pods drawn in proportion to their weights (even when the
    /// pods are few: the draw is the ramp), the one with the fewest outstanding leases per unit of weight wins, the first
    /// drawn on a tie, so an idle pod's share follows its weight and a busy ramping pod holds that share of the leases;
    /// a scan when every drawn pod is at the limit.
    /// </summary>
    private int ChooseRamping(OutstandingCounter[] counters, RampTable ramp, long now)
    {
        int best = -1;
        double bestScore = double.MaxValue;
        for (int c = 0; c < _choiceCount; c++)
        {
            int i = ramp.Draw(now, _random);
            int value = counters[i].Value;
            if (value >= _limit)
            {
                continue;
            }

            double score = value / ramp.Weight(i, now);
            if (score < bestScore)
            {
                best = i;
                bestScore = score;
            }
        }

        return best >= 0 ? best : Scan(counters);
    }

    /// <summary>Every pod compared, from a random start so that ties spread: the least loaded below the limit, or -1.</summary>
    private int Scan(OutstandingCounter[] counters)
    {
        int n = counters.Length;
        int start = n > 1 ? _random.Next(n) : 0;
        int best = -1;
        int bestValue = _limit;
        for (int k = 0; k < n; k++)
        {
            int i = start + k < n ? start + k : start + k - n;
            int value = counters[i].Value;
            if (value < bestValue)
            {
                best = i;
                bestValue = value;
            }
        }

        return best;
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
            counters[i] = _counters.GetValueOrDefault(available[i]) ?? new OutstandingCounter(_limit);
            next[available[i]] = counters[i];
        }

        _counters = next;
        return new Table(current, available, counters, _slowStart?.Build(available));
    }

    private sealed record Table(EndpointSet Snapshot, PodEndpoint[] Endpoints, OutstandingCounter[] Counters, RampTable? Ramp);
}
