using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Net;
using System.Runtime.CompilerServices;
using Headless.Discovery;

namespace Headless.Discovery.Tests.Selection;

/// <summary>A hand-written IHeadlessService double: the test publishes snapshots; reported outcomes are recorded.</summary>
internal sealed class FakeHeadlessService : IHeadlessService
{
    public static readonly ServiceName ServiceName = ServiceName.Parse("web.default.svc.cluster.local");

    private readonly CancellationTokenSource _stopping = new();
    private EndpointSet _current;
    private long _version;

    public FakeHeadlessService(params PodEndpoint[] pods)
    {
        _current = EndpointSet.Create(ServiceName, [], 0, DateTimeOffset.UnixEpoch, TimeSpan.Zero);
        if (pods.Length > 0)
        {
            Publish(pods);
        }
    }

    public ConcurrentQueue<(PodEndpoint Endpoint, EndpointOutcome Outcome)> Outcomes { get; } = new();

    /// <summary>The clock selectors, fan-outs and connection sets over this service run on. Default: the system clock.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Cancelled by <see cref="DisposeAsync"/>.</summary>
    public CancellationToken Stopping => _stopping.Token;

    public ServiceName Name => ServiceName;

    /// <summary>Runs on every read of <see cref="Current"/> (to hold a reader at a known point), when set.</summary>
    public Action? OnCurrentRead { get; set; }

    public EndpointSet Current
    {
        get
        {
            OnCurrentRead?.Invoke();
            return Volatile.Read(ref _current);
        }
    }

    public event EventHandler<EndpointSetChange>? Changed;

    /// <summary>Publishes pods, all of unknown health.</summary>
    public EndpointSet Publish(IEnumerable<PodEndpoint> pods) =>
        Publish(new EndpointSet(ServiceName, PodEndpointOrder.SortUnique(pods), Interlocked.Increment(ref _version), DateTimeOffset.UnixEpoch, TimeSpan.FromSeconds(5), false, null, null));

    /// <summary>Publishes pods with a health per pod (aligned after sorting by the pod).</summary>
    public EndpointSet Publish(IEnumerable<(PodEndpoint Pod, EndpointHealth Health, bool Ejected)> pods, bool panic = false)
    {
        ImmutableArray<PodEndpoint> sorted = PodEndpointOrder.SortUnique(pods.Select(p => p.Pod));
        Dictionary<PodEndpoint, (EndpointHealth Health, bool Ejected)> health = pods.ToDictionary(p => p.Pod, p => (p.Health, p.Ejected));
        ImmutableArray<EndpointStatus> statuses = [.. sorted.Select(p => new EndpointStatus(p, health[p].Health, health[p].Ejected))];
        (ImmutableArray<PodEndpoint> available, _) = AvailabilityPolicy.Apply(sorted, statuses, 0);
        return Publish(new EndpointSet(ServiceName, sorted, Interlocked.Increment(ref _version), DateTimeOffset.UnixEpoch, TimeSpan.FromSeconds(5), false, null, null, statuses, panic ? sorted : available, panic));
    }

    public EndpointSet Publish(EndpointSet next)
    {
        EndpointSet previous = Interlocked.Exchange(ref _current, next);
        Changed?.Invoke(this, EndpointSetChange.Compute(previous, next));
        return next;
    }

    public void Start()
    {
    }

    public ValueTask<EndpointSet> GetEndpointsAsync(CancellationToken cancellationToken = default) => new(Current);

    public ValueTask<EndpointSet> WaitForEndpointsAsync(int minCount = 1, CancellationToken cancellationToken = default) => new(Current);

    public async IAsyncEnumerable<EndpointSetChange> WatchAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.Yield();
        yield return EndpointSetChange.Compute(null, Current);
    }

    public void ReportOutcome(PodEndpoint endpoint, EndpointOutcome outcome) => Outcomes.Enqueue((endpoint, outcome));

    public ValueTask<EndpointSet> RefreshAsync(CancellationToken cancellationToken = default) => new(Current);

    public ValueTask DisposeAsync() => new(_stopping.CancelAsync());

    public static PodEndpoint Pod(int n, int port = 80) => new(IPAddress.Parse($"10.0.{n / 250}.{(n % 250) + 1}"), port);

    public static PodEndpoint[] Pods(int count, int first = 0) => [.. Enumerable.Range(first, count).Select(i => Pod(i))];

    public static PodEndpoint StatefulPod(int ordinal, string set = "web", int? addressIndex = null) =>
        new(IPAddress.Parse($"10.2.0.{(addressIndex ?? ordinal) + 1}"), 5432, $"{set}-{ordinal}.{set}.default.svc.cluster.local");
}
