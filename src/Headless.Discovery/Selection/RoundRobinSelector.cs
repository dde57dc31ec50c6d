namespace Headless.Discovery;

/// <summary>
/// Round robin over the available pods: consecutive picks by one caller rotate exactly, whichever threads they run on;
/// approximately even when callers pick at the same moment (see <see cref="RoundRobinCursor"/>).
/// </summary>
internal sealed class RoundRobinSelector : EndpointSelectorBase
{
    private readonly RoundRobinCursor _cursor;

    internal RoundRobinSelector(IHeadlessService service, int? seed = null)
        : base(service)
    {
        _cursor = new RoundRobinCursor(seed);
    }

    protected override PodEndpoint? Choose(out LeaseTracker? tracker)
    {
        tracker = null;
        PodEndpoint[] available = AvailableOf(Service.Current);
        return available.Length != 0 ? available[_cursor.Next(available.Length)] : null;
    }
}

/// <summary>Uniformly random among the available pods.</summary>
internal sealed class RandomSelector : EndpointSelectorBase
{
    private readonly FastRandom _random;

    internal RandomSelector(IHeadlessService service, int? seed)
        : base(service)
    {
        _random = new FastRandom(seed);
    }

    protected override PodEndpoint? Choose(out LeaseTracker? tracker)
    {
        tracker = null;
        PodEndpoint[] available = AvailableOf(Service.Current);
        return available.Length != 0 ? available[_random.Next(available.Length)] : null;
    }
}
