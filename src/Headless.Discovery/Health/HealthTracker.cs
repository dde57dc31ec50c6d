using System.Collections.Concurrent;
using System.Collections.Immutable;
using Microsoft.Extensions.Logging;

namespace Headless.Discovery;

/// <summary>
/// The health side of one <see cref="HeadlessService"/>: per-pod <see cref="EndpointHealthState"/> keyed by pod identity,
/// the active monitor that feeds it, passive outlier ejection, and the statuses each published snapshot carries.
/// </summary>
/// <remarks>
/// Transitions (healthy/unhealthy, ejected/returned) call the publish callback, which republishes the snapshot under the
/// service's publish lock; probe details that change without a transition (latency, last error) are only read through
/// <see cref="GetDetails"/>, so they cause no version churn. Thread-safe: one lock guards state mutation; the outcome
/// path for a success is a dictionary lookup and at most one write.
/// </remarks>
internal sealed partial class HealthTracker : IAsyncDisposable
{
    private readonly ConcurrentDictionary<PodEndpoint, EndpointHealthState> _states = new();
    private readonly object _lock = new();
    private readonly ActiveHealthOptions _active;
    private readonly PassiveHealthOptions _passive;
    private readonly double _panicThreshold;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly Action _requestPublish;
    private readonly string _service;
    private readonly KeyValuePair<string, object?> _serviceTag;
    private ImmutableArray<PodEndpoint> _members = [];
    private int _memberCount;
    private int _ejectedCount;
    private bool _disposed;

    public HealthTracker(
        ServiceName service,
        ActiveHealthOptions active,
        PassiveHealthOptions passive,
        double panicThreshold,
        TimeProvider timeProvider,
        ILoggerFactory? loggerFactory,
        Action requestPublish)
    {
        _service = service.Value;
        _serviceTag = new KeyValuePair<string, object?>(DiscoveryTelemetry.ServiceTag, service.Value);
        _active = active;
        _passive = passive;
        _panicThreshold = panicThreshold;
        _timeProvider = timeProvider;
        _logger = (ILogger?)loggerFactory?.CreateLogger("Headless.Discovery.Health") ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        _requestPublish = requestPublish;

        IEndpointProbe? probe = active.CreateProbe(out bool ownsProbe);
        if (probe is not null)
        {
            Monitor = new ActiveHealthMonitor(service, probe, ownsProbe, active, timeProvider, _logger, OnProbeResult);
        }
    }

    /// <summary>The active prober, or <see langword="null"/> when no probe is configured.</summary>
    public ActiveHealthMonitor? Monitor { get; }

    /// <summary>Number of pods tracked (for tests).</summary>
    internal int TrackedCount => _states.Count;

    /// <summary>
    /// Makes the tracked pods match <paramref name="members"/> (sorted): new pods get fresh state and are probed at once
    /// (after the initial jitter); pods that left lose their state, their probe is cancelled and their ejection timer
    /// disposed. Called under the publish lock for every published snapshot.
    /// </summary>
    public void Sync(ImmutableArray<PodEndpoint> members)
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            // Probed pods need their state at once; without a probe, a pod gets one on its first reported failure
            // (see ReportOutcome), so a service whose pods never fail holds no health state per pod.
            if (Monitor is not null)
            {
                foreach (PodEndpoint endpoint in members)
                {
                    if (!_states.ContainsKey(endpoint))
                    {
                        var state = new EndpointHealthState(endpoint);
                        _states[endpoint] = state;
                        Monitor.Start(state);
                    }
                }
            }

            if (!_states.IsEmpty)
            {
                foreach (KeyValuePair<PodEndpoint, EndpointHealthState> entry in _states)
                {
                    if (members.BinarySearch(entry.Key) < 0)
                    {
                        _states.TryRemove(entry.Key, out _);
                        EndpointHealthState state = entry.Value;
                        state.Removed = true;
                        if (state.IsEjected)
                        {
                            _ejectedCount--;
                        }

                        state.EjectionTimer?.Dispose();
                        state.EjectionTimer = null;
                        ActiveHealthMonitor.Stop(state);
                    }
                }
            }

            _members = members;
            _memberCount = members.Length;
        }
    }

    /// <summary>
    /// The statuses to publish for <paramref name="endpoints"/> (default when nothing is known about any pod) and whether
    /// the set is in panic mode.
    /// </summary>
    public (ImmutableArray<EndpointStatus> Statuses, bool IsPanic) BuildStatuses(ImmutableArray<PodEndpoint> endpoints)
    {
        lock (_lock)
        {
            // Nothing known about any pod: no statuses at all (no array, no status object per pod).
            bool anything = false;
            if (!_states.IsEmpty)
            {
                foreach (KeyValuePair<PodEndpoint, EndpointHealthState> known in _states)
                {
                    if (!known.Value.IsBlank)
                    {
                        anything = true;
                        break;
                    }
                }
            }

            if (!anything)
            {
                return (default, false);
            }

            var statuses = new EndpointStatus[endpoints.Length];
            int available = 0;
            for (int i = 0; i < statuses.Length; i++)
            {
                EndpointStatus status = _states.TryGetValue(endpoints[i], out EndpointHealthState? state)
                    ? state.ToStatus()
                    : endpoints[i].UnknownStatus;
                available += status.IsAvailable ? 1 : 0;
                statuses[i] = status;
            }

            return (System.Runtime.InteropServices.ImmutableCollectionsMarshal.AsImmutableArray(statuses),
                PassiveHealthPolicy.IsPanic(available, endpoints.Length, _panicThreshold));
        }
    }

    /// <summary>Live per-pod details (latest latency, error and counters) for <paramref name="endpoints"/>, aligned by index.</summary>
    public ImmutableArray<EndpointStatus> GetDetails(ImmutableArray<PodEndpoint> endpoints)
    {
        lock (_lock)
        {
            var statuses = new EndpointStatus[endpoints.Length];
            for (int i = 0; i < statuses.Length; i++)
            {
                statuses[i] = _states.TryGetValue(endpoints[i], out EndpointHealthState? state) ? state.ToStatus() : endpoints[i].UnknownStatus;
            }

            return System.Runtime.InteropServices.ImmutableCollectionsMarshal.AsImmutableArray(statuses);
        }
    }

    /// <summary>Records metrics and logs panic transitions for a snapshot that was just published.</summary>
    public void OnPublished(EndpointSet previous, EndpointSet next)
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

            Log.PanicEntered(_logger, _service, available, next.Count, _panicThreshold);
        }
        else if (!next.IsPanic && previous.IsPanic)
        {
            Log.PanicExited(_logger, _service, next.Available.Length, next.Count);
        }
    }

    /// <summary>Passive health: a caller's outcome. A success resets the failure streak; enough failures eject the pod.</summary>
    public void ReportOutcome(PodEndpoint endpoint, EndpointOutcome outcome)
    {
        if (!_passive.Enabled)
        {
            return;
        }

        if (!_states.TryGetValue(endpoint, out EndpointHealthState? state))
        {
            // A pod without state has no failure streak to reset; its first failure creates its state (members only).
            if (outcome.Succeeded || (state = StateForFirstFailure(endpoint)) is null)
            {
                return;
            }
        }

        if (outcome.Succeeded)
        {
            // Read first: a steady stream of successes then touches no shared cache line.
            if (Volatile.Read(ref state.PassiveFailures) != 0)
            {
                Volatile.Write(ref state.PassiveFailures, 0);
            }

            return;
        }

        int failures = Interlocked.Increment(ref state.PassiveFailures);
        if (failures < _passive.ConsecutiveFailures || state.IsEjected)
        {
            return;
        }

        bool ejected;
        lock (_lock)
        {
            ejected = TryEject(state, failures);
        }

        if (ejected)
        {
            _requestPublish();
        }
    }

    private EndpointHealthState? StateForFirstFailure(PodEndpoint endpoint)
    {
        lock (_lock)
        {
            if (_disposed || _members.BinarySearch(endpoint) < 0)
            {
                return null;
            }

            return _states.GetOrAdd(endpoint, static e => new EndpointHealthState(e));
        }
    }

    private bool TryEject(EndpointHealthState state, int failures)
    {
        if (_disposed || state.Removed || state.IsEjected)
        {
            return false;
        }

        if (!PassiveHealthPolicy.CanEject(_ejectedCount, _memberCount, _passive.MaxEjectionPercent))
        {
            if (failures == _passive.ConsecutiveFailures)
            {
                Log.EjectionSkipped(_logger, _service, state.Endpoint.ToString(), failures, _ejectedCount, _memberCount, _passive.MaxEjectionPercent);
            }

            return false;
        }

        DateTimeOffset now = _timeProvider.GetUtcNow();
        if (state.LastEjectionEndedAt is { } ended && now - ended >= _passive.MaxEjectionTime)
        {
            state.TimesEjected = 0;
        }

        state.TimesEjected++;
        TimeSpan duration = PassiveHealthPolicy.EjectionDuration(_passive.BaseEjectionTime, _passive.MaxEjectionTime, state.TimesEjected);
        state.IsEjected = true;
        state.EjectedUntil = now + duration;
        state.Changed();
        Volatile.Write(ref state.PassiveFailures, 0);
        _ejectedCount++;
        state.EjectionTimer = _timeProvider.CreateTimer(
            static s =>
            {
                var (tracker, pod) = ((HealthTracker, EndpointHealthState))s!;
                tracker.OnEjectionExpired(pod);
            },
            (this, state),
            duration,
            Timeout.InfiniteTimeSpan);
        DiscoveryTelemetry.Ejections.Add(1, _serviceTag);
        Log.Ejected(_logger, _service, state.Endpoint.ToString(), failures, duration, state.TimesEjected);
        return true;
    }

    private void OnEjectionExpired(EndpointHealthState state)
    {
        lock (_lock)
        {
            if (_disposed || state.Removed || !state.IsEjected)
            {
                return;
            }

            Return(state, "ejection time elapsed");
        }

        _requestPublish();
    }

    /// <summary>Ends an ejection. Caller holds <see cref="_lock"/>.</summary>
    private void Return(EndpointHealthState state, string reason)
    {
        state.IsEjected = false;
        state.EjectedUntil = null;
        state.Changed();
        state.LastEjectionEndedAt = _timeProvider.GetUtcNow();
        state.EjectionTimer?.Dispose();
        state.EjectionTimer = null;
        _ejectedCount--;
        Log.EjectionEnded(_logger, _service, state.Endpoint.ToString(), reason);
    }

    /// <summary>Active health: applies one probe result with hysteresis; a pod's first probe decides its health.</summary>
    private void OnProbeResult(EndpointHealthState state, ProbeResult result)
    {
        bool changed = false;
        lock (_lock)
        {
            if (_disposed || state.Removed)
            {
                return;
            }

            DateTimeOffset now = _timeProvider.GetUtcNow();
            state.LastProbedAt = now;
            state.LastLatency = result.Latency;
            state.LastError = result.Succeeded ? null : result.Error;
            state.Changed();
            if (result.Succeeded)
            {
                state.ConsecutiveFailures = 0;
                state.ConsecutiveSuccesses++;
                if (state.Health == EndpointHealth.Unknown
                    || (state.Health == EndpointHealth.Unhealthy && state.ConsecutiveSuccesses >= _active.HealthyThreshold))
                {
                    Transition(state, EndpointHealth.Healthy, now);
                    changed = true;
                }

                if (state.IsEjected)
                {
                    Return(state, "an active probe passed");
                    changed = true;
                }
            }
            else
            {
                state.ConsecutiveSuccesses = 0;
                state.ConsecutiveFailures++;
                if (state.Health == EndpointHealth.Unknown
                    || (state.Health == EndpointHealth.Healthy && state.ConsecutiveFailures >= _active.UnhealthyThreshold))
                {
                    Transition(state, EndpointHealth.Unhealthy, now);
                    changed = true;
                }
            }
        }

        if (changed)
        {
            _requestPublish();
        }
    }

    private void Transition(EndpointHealthState state, EndpointHealth to, DateTimeOffset now)
    {
        EndpointHealth from = state.Health;
        state.Health = to;
        state.LastTransitionAt = now;
        if (to == EndpointHealth.Healthy)
        {
            Log.BecameHealthy(_logger, _service, state.Endpoint.ToString(), from, state.ConsecutiveSuccesses);
        }
        else
        {
            Log.BecameUnhealthy(_logger, _service, state.Endpoint.ToString(), from, state.ConsecutiveFailures, state.LastError);
        }
    }

    /// <summary>Stops every probe and timer; later results and outcomes are ignored.</summary>
    public async ValueTask DisposeAsync()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            foreach (EndpointHealthState state in _states.Values)
            {
                state.EjectionTimer?.Dispose();
                state.EjectionTimer = null;
            }
        }

        if (Monitor is not null)
        {
            await Monitor.DisposeAsync().ConfigureAwait(false);
        }
    }
}
