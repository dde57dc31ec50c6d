using System.Collections.Immutable;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace Headless.Discovery;

/// <summary>
/// The one writer of a service's snapshot: owns the version, composes the latest membership (from refresh) with the
/// latest health events into the next <see cref="EndpointSet"/>, swaps it in, wakes waiters and hands the change to the
/// ordered <see cref="ChangeDispatcher"/>, which delivers it outside every lock.
/// </summary>
/// <remarks>
/// Thread-safe: one lock serializes every publication, so versions strictly increase and no update is lost. A health
/// event publishes only when a member's health or ejection changes; other details (latency, last error) are kept for the
/// next publication. <see cref="Current"/> is a single volatile read.
/// </remarks>
internal sealed partial class EndpointPublisher
{
    private readonly object _lock = new();
    private readonly ServiceName _service;
    private readonly object _sender;
    private readonly double _panicThreshold;
    private readonly bool _tracksHealth;
    private readonly ILogger _logger;
    private readonly ILogger _healthLogger;
    private readonly KeyValuePair<string, object?> _serviceTag;
    private readonly ChangeDispatcher _dispatcher;

    // Guarded by _lock: the latest status of every pod something is known about (unknown pods have no entry).
    private readonly Dictionary<PodEndpoint, EndpointStatus> _statuses = [];
    private Membership _membership;
    private EndpointSet _current;
    private TaskCompletionSource _published = NewSignal();

    /// <param name="service">The service.</param>
    /// <param name="initial">The membership before the first round; published as version 0 (not delivered).</param>
    /// <param name="panicThreshold">The panic threshold in percent (see <see cref="AvailabilityPolicy"/>).</param>
    /// <param name="tracksHealth">Whether health metrics and panic transitions are recorded.</param>
    /// <param name="sender">The sender handlers of <see cref="Changed"/> see (the facade).</param>
    /// <param name="logger">Where publications and handler failures are logged.</param>
    /// <param name="healthLogger">Where panic transitions are logged.</param>
    public EndpointPublisher(ServiceName service, Membership initial, double panicThreshold, bool tracksHealth, object sender, ILogger logger, ILogger healthLogger)
    {
        _service = service;
        _membership = initial;
        _panicThreshold = panicThreshold;
        _tracksHealth = tracksHealth;
        _sender = sender;
        _logger = logger;
        _healthLogger = healthLogger;
        _serviceTag = new KeyValuePair<string, object?>(DiscoveryTelemetry.ServiceTag, service.Value);
        _current = new EndpointSet(service, initial, 0);
        _dispatcher = new ChangeDispatcher(Deliver);
    }

    /// <summary>Raised once per publication, on the dispatcher's thread (see <see cref="IHeadlessService.Changed"/>).</summary>
    public event EventHandler<EndpointSetChange>? Changed;

    /// <summary>The latest snapshot.</summary>
    public EndpointSet Current => Volatile.Read(ref _current);

    /// <summary>Completes at the next publication (or when <see cref="WakeWaiters"/> is called).</summary>
    public Task NextPublication => Volatile.Read(ref _published).Task;

    /// <summary>Whether the calling thread is delivering a change (it is inside a handler).</summary>
    public bool IsDelivering => _dispatcher.IsDelivering;

    /// <summary>Publishes <paramref name="membership"/> with the health known for its pods.</summary>
    public void PublishMembership(Membership membership)
    {
        lock (_lock)
        {
            _membership = membership;
            if (_statuses.Count > 0)
            {
                // Pods that left take their health with them (the tracker forgot them before this membership came).
                foreach (PodEndpoint pod in _statuses.Keys.Where(p => membership.Endpoints.BinarySearch(p) < 0).ToList())
                {
                    _statuses.Remove(pod);
                }
            }

            EndpointSet previous = _current;
            Publish(previous, Compose(previous.Version + 1));
        }
    }

    /// <inheritdoc/>
    public void OnStatus(EndpointStatus status)
    {
        lock (_lock)
        {
            if (ReferenceEquals(status, status.Endpoint.UnknownStatus))
            {
                _statuses.Remove(status.Endpoint);
            }
            else
            {
                _statuses[status.Endpoint] = status;
            }

            EndpointSet current = _current;
            int index = current.Version == 0 ? -1 : current.IndexOf(status.Endpoint);
            if (index < 0)
            {
                // Not published as a member yet: the membership that adds it carries its status.
                return;
            }

            EndpointStatus published = current.KnowsNoHealth ? status.Endpoint.UnknownStatus : current.Statuses[index];
            if (published.Health == status.Health && published.IsEjected == status.IsEjected)
            {
                // Details only (latency, last error): no version churn; the next publication carries them.
                return;
            }

            Publish(current, Compose(current.Version + 1));
        }
    }

    /// <summary>The snapshot of the current membership and health at <paramref name="version"/>. Caller holds <see cref="_lock"/>.</summary>
    private EndpointSet Compose(long version)
    {
        ImmutableArray<PodEndpoint> endpoints = _membership.Endpoints;
        ImmutableArray<EndpointStatus> statuses = default;
        if (_statuses.Count > 0)
        {
            var array = new EndpointStatus[endpoints.Length];
            bool known = false;
            for (int i = 0; i < array.Length; i++)
            {
                known |= _statuses.TryGetValue(endpoints[i], out EndpointStatus? status);
                array[i] = status ?? endpoints[i].UnknownStatus;
            }

            // Nothing known about any member: no statuses at all (no array, no status object per pod).
            statuses = known ? ImmutableCollectionsMarshal.AsImmutableArray(array) : default;
        }

        (ImmutableArray<PodEndpoint> available, bool isPanic) = AvailabilityPolicy.Apply(endpoints, statuses, _panicThreshold);
        return new EndpointSet(_service, _membership, version, statuses, available, isPanic);
    }

    /// <summary>Swaps in <paramref name="next"/>, records metrics, wakes waiters and queues the change. Caller holds <see cref="_lock"/>.</summary>
    private void Publish(EndpointSet previous, EndpointSet next)
    {
        Volatile.Write(ref _current, next);
        EndpointSetChange change = EndpointSetChange.Compute(previous.Version == 0 ? null : previous, next);
        RecordMetrics(change);
        if (_tracksHealth)
        {
            RecordHealth(previous, next);
        }

        Log.Published(_logger, _service.Value, next.Version, next.Count, change.Added.Length, change.Removed.Length, next.IsStale);
        Interlocked.Exchange(ref _published, NewSignal()).TrySetResult();

        if (Changed is not null)
        {
            // Enqueued under the lock, so deliveries follow version order; they run outside it.
            _dispatcher.Enqueue(change);
        }
    }

    private void RecordMetrics(EndpointSetChange change)
    {
        EndpointSet next = change.Current;
        DiscoveryTelemetry.Endpoints.Record(next.Count, _serviceTag, new(DiscoveryTelemetry.StateTag, "total"));
        DiscoveryTelemetry.Endpoints.Record(next.IsStale ? next.Count : 0, _serviceTag, new(DiscoveryTelemetry.StateTag, "stale"));
        if (change.Added.Length > 0)
        {
            DiscoveryTelemetry.EndpointChanges.Add(change.Added.Length, _serviceTag, new(DiscoveryTelemetry.ChangeTag, "added"));
        }

        if (change.Removed.Length > 0)
        {
            DiscoveryTelemetry.EndpointChanges.Add(change.Removed.Length, _serviceTag, new(DiscoveryTelemetry.ChangeTag, "removed"));
        }
    }

    /// <summary>Health gauges, and panic transitions logged.</summary>
    private void RecordHealth(EndpointSet previous, EndpointSet next)
    {
        DiscoveryTelemetry.Endpoints.Record(next.HealthyCount, _serviceTag, new(DiscoveryTelemetry.StateTag, "healthy"));
        DiscoveryTelemetry.Endpoints.Record(next.UnhealthyCount, _serviceTag, new(DiscoveryTelemetry.StateTag, "unhealthy"));
        DiscoveryTelemetry.Endpoints.Record(next.EjectedCount, _serviceTag, new(DiscoveryTelemetry.StateTag, "ejected"));
        DiscoveryTelemetry.Endpoints.Record(next.Available.Length, _serviceTag, new(DiscoveryTelemetry.StateTag, "available"));
        DiscoveryTelemetry.Panic.Record(next.IsPanic ? 1 : 0, _serviceTag);
        if (next.IsPanic && !previous.IsPanic)
        {
            int available = 0;
            foreach (EndpointStatus status in next.Statuses)
            {
                available += status.IsAvailable ? 1 : 0;
            }

            Log.PanicEntered(_healthLogger, _service.Value, available, next.Count, _panicThreshold);
        }
        else if (!next.IsPanic && previous.IsPanic)
        {
            Log.PanicExited(_healthLogger, _service.Value, next.Available.Length, next.Count);
        }
    }

    /// <summary>Runs every <see cref="Changed"/> handler for one change; on the dispatcher's thread, one change at a time.</summary>
    private void Deliver(EndpointSetChange change)
    {
        EventHandler<EndpointSetChange>? handlers = Changed;
        if (handlers is null)
        {
            return;
        }

        foreach (EventHandler<EndpointSetChange> handler in handlers.GetInvocationList().Cast<EventHandler<EndpointSetChange>>())
        {
            try
            {
                handler(_sender, change);
            }
            catch (Exception ex)
            {
                Log.ChangedHandlerFailed(_logger, _service.Value, ex);
            }
        }
    }

    /// <summary>Starts no further delivery; see <see cref="ChangeDispatcher.StopAsync"/>.</summary>
    public Task StopDeliveriesAsync(bool fromHandler) => _dispatcher.StopAsync(fromHandler);

    /// <summary>Wakes every waiter of <see cref="NextPublication"/> (on disposal, so they see it).</summary>
    public void WakeWaiters() => Volatile.Read(ref _published).TrySetResult();

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
