namespace Headless.Discovery;

/// <summary>
/// Round robin or random with slow start: while a pod ramps (see <see cref="SlowStart"/>), a pod the rotation or the
/// draw lands on stands with the probability of its weight, so picks fall on pods in proportion to their weights;
/// once no pod ramps, a pick is the plain rotation or draw. Round robin stays exact for one caller over the pods at full
/// weight.
/// </summary>
internal sealed class RampingSelector : EndpointSelectorBase
{
    private readonly RoundRobinCursor? _cursor;
    private readonly FastRandom _random;
    private readonly SlowStart _slowStart;
    private SnapshotTableCache<Table> _tables;

    internal RampingSelector(IHeadlessService service, bool roundRobin, SlowStart slowStart, int? seed)
        : base(service)
    {
        _cursor = roundRobin ? new RoundRobinCursor(seed) : null;
        _random = new FastRandom(seed);
        _slowStart = slowStart;
        _tables = new SnapshotTableCache<Table>(service.Current, Build);
    }

    public override string ToString() => $"{(_cursor is null ? "Random" : "RoundRobin")} ({_slowStart.Description}) over {Service.Name}";

    protected override PodEndpoint? Choose(out LeaseTracker? tracker)
    {
        tracker = null;
        Table table = _tables.Get(Service.Current);
        PodEndpoint[] pods = table.Endpoints;
        int n = pods.Length;
        if (n == 0)
        {
            return null;
        }

        return table.Ramp is { } ramp && ramp.IsRamping(out long now)
            ? pods[ramp.Draw(now, _random, _cursor)]
            : pods[_cursor is { } cursor ? cursor.Next(n) : _random.Next(n)];
    }

    private Table Build(EndpointSet current)
    {
        PodEndpoint[] available = AvailableOf(current);
        return new Table(current, available, _slowStart.Build(available));
    }

    private sealed record Table(EndpointSet Snapshot, PodEndpoint[] Endpoints, RampTable? Ramp) : SnapshotTable(Snapshot);
}
