using System.Collections.Concurrent;
using System.Collections.Immutable;
using Microsoft.Extensions.Logging;

namespace Headless.Discovery;

/// <summary>
/// The health room of one service: per-pod <see cref="EndpointHealthState"/> keyed by pod identity, the active monitor
/// that feeds it and passive outlier ejection. Every change of a pod's status goes out as an event to the
/// <see cref="IHealthEventSink"/>; the tracker reads nothing back.
/// </summary>
/// <remarks>
/// Thread-safe: one lock guards every state, and events are raised under it (so they follow <see cref="Sync"/> in
/// order). The outcome path for a success is a dictionary lookup and at most one write.
/// </remarks>
internal sealed partial class HealthTracker : IAsyncDisposable
{
    private readonly ConcurrentDictionary<PodEndpoint, EndpointHealthState> _states = new();
    private readonly object _lock = new();
    private readonly ActiveHealthOptions _active;
    private readonly PassiveHealthOptions _passive;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly IHealthEventSink _sink;
    private readonly string _service;
    private readonly KeyValuePair<string, object?> _serviceTag;
    private readonly ActiveHealthMonitor? _monitor;
    private ImmutableArray<PodEndpoint> _members = [];
    private int _ejectedCount;
    private bool _disposed;

    /// <param name="service">The service, for logs and metrics.</param>
    /// <param name="active">Active probing (a frozen copy); no probe, no monitor.</param>
    /// <param name="passive">Passive outlier ejection (a frozen copy).</param>
    /// <param name="timeProvider">The clock and the ejection timers.</param>
    /// <param name="logger">Where health events are logged.</param>
    /// <param name="random01">Uniform samples in [0, 1) for probe jitter.</param>
    /// <param name="sink">Receives every status change.</param>
    public HealthTracker(
        ServiceName service,
        ActiveHealthOptions active,
        PassiveHealthOptions passive,
        TimeProvider timeProvider,
        ILogger logger,
        Func<double> random01,
        IHealthEventSink sink)
    {
        _service = service.Value;
        _serviceTag = new KeyValuePair<string, object?>(DiscoveryTelemetry.ServiceTag, service.Value);
        _active = active;
        _passive = passive;
        _timeProvider = timeProvider;
        _logger = logger;
        _sink = sink;

        IEndpointProbe? probe = active.CreateProbe(out bool ownsProbe);
        if (probe is not null)
        {
            _monitor = new ActiveHealthMonitor(service, probe, ownsProbe, active, timeProvider, _logger, random01, OnProbeResult);
        }
    }

    /// <summary>
    /// Makes the tracked pods match <paramref name="members"/> (sorted): new pods get fresh state and are probed at once
    /// (after the initial jitter); pods that left lose their state, their probe is cancelled and their ejection timer
    /// disposed. Call before the membership is published, so no event of a pod arrives after its removal.
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
            if (_monitor is not null)
            {
                foreach (PodEndpoint endpoint in members)
                {
                    if (_states.TryAdd(endpoint, new EndpointHealthState(endpoint)))
                    {
                        _monitor.Start(endpoint);
                    }
                }
            }

            foreach (KeyValuePair<PodEndpoint, EndpointHealthState> entry in _states)
            {
                if (members.BinarySearch(entry.Key) < 0)
                {
                    Forget(entry.Value);
                }
            }

            _members = members;
            SyncOutcomeCounters(members);
            RecordTrackedPods();
        }
    }

    /// <summary>Counts one health transition (<c>healthy</c>, <c>unhealthy</c>, <c>ejected</c>, <c>returned</c>): the events logged as 1200-1203.</summary>
    private void RecordEvent(string kind) =>
        DiscoveryTelemetry.HealthEvents.Add(1, _serviceTag, new KeyValuePair<string, object?>(DiscoveryTelemetry.KindTag, kind));

    /// <summary>The gauge of pods holding health state. Caller holds <see cref="_lock"/>, so values go out in order.</summary>
    private void RecordTrackedPods() => DiscoveryTelemetry.TrackedPods.Record(_states.Count, _serviceTag);

    /// <summary>Drops a pod that left. Caller holds <see cref="_lock"/>.</summary>
    private void Forget(EndpointHealthState state)
    {
        _states.TryRemove(state.Endpoint, out _);
        if (state.IsEjected)
        {
            _ejectedCount--;
        }

        state.StopEjectionTimer();
        _monitor?.Stop(state.Endpoint);
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

    /// <summary>Passive health: a caller's outcome. A success resets the failure streak; enough failures eject the pod.</summary>
    public void ReportOutcome(PodEndpoint endpoint, bool succeeded)
    {
        if (!_passive.Enabled)
        {
            return;
        }

        CountOutcome(endpoint, succeeded);
        if (!_states.TryGetValue(endpoint, out EndpointHealthState? state))
        {
            // A pod without state has no failure streak to reset; its first failure creates its state (members only).
            if (succeeded || (state = StateForFirstFailure(endpoint)) is null)
            {
                return;
            }
        }

        if (succeeded)
        {
            state.PassiveFailures.Reset();
            return;
        }

        int failures = state.PassiveFailures.Increment();
        if (failures < _passive.ConsecutiveFailures)
        {
            return;
        }

        lock (_lock)
        {
            TryEject(state, failures);
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

            return StateOf(endpoint);
        }
    }

    /// <summary>The state of member <paramref name="endpoint"/>, created when it has none. Caller holds <see cref="_lock"/>.</summary>
    private EndpointHealthState StateOf(PodEndpoint endpoint)
    {
        if (!_states.TryGetValue(endpoint, out EndpointHealthState? state))
        {
            state = new EndpointHealthState(endpoint);
            _states[endpoint] = state;
            RecordTrackedPods();
        }

        return state;
    }

    /// <summary>
    /// Ejects the pod if the policy allows: after <paramref name="failures"/> failed calls in a row, or as an outlier of
    /// an interval's statistics (<paramref name="outlier"/> says why). Caller holds <see cref="_lock"/>.
    /// </summary>
    private void TryEject(EndpointHealthState state, int failures, string? outlier = null)
    {
        // A state no longer in the map belongs to a pod that left (a late outcome).
        if (_disposed || state.IsEjected || !_states.TryGetValue(state.Endpoint, out EndpointHealthState? current) || current != state)
        {
            return;
        }

        if (!PassiveHealthPolicy.CanEject(_ejectedCount, _members.Length, _passive.MaxEjectionPercent))
        {
            if (outlier is null && failures == _passive.ConsecutiveFailures)
            {
                Log.EjectionSkipped(_logger, _service, state.Endpoint.ToString(), failures, _ejectedCount, _members.Length, _passive.MaxEjectionPercent);
            }

            return;
        }

        TimeSpan duration = state.Eject(
            _timeProvider.GetUtcNow(),
            _passive.BaseEjectionTime,
            _passive.MaxEjectionTime,
            after => _timeProvider.CreateTimer(
                static s =>
                {
                    var (tracker, pod) = ((HealthTracker, EndpointHealthState))s!;
                    tracker.OnEjectionExpired(pod);
                },
                (this, state),
                after,
                Timeout.InfiniteTimeSpan));
        _ejectedCount++;
        DiscoveryTelemetry.Ejections.Add(1, _serviceTag);
        RecordEvent("ejected");
        if (outlier is null)
        {
            Log.Ejected(_logger, _service, state.Endpoint.ToString(), failures, duration, state.TimesEjected);
        }
        else
        {
            Log.EjectedAsOutlier(_logger, _service, state.Endpoint.ToString(), duration, outlier, state.TimesEjected);
        }

        _sink.OnStatus(state.ToStatus());
    }

    private void OnEjectionExpired(EndpointHealthState state)
    {
        lock (_lock)
        {
            if (!_disposed && state.IsEjected && _states.TryGetValue(state.Endpoint, out EndpointHealthState? current) && current == state)
            {
                Return(state, "ejection time elapsed");
                _sink.OnStatus(state.ToStatus());
            }
        }
    }

    /// <summary>Ends an ejection. Caller holds <see cref="_lock"/>.</summary>
    private void Return(EndpointHealthState state, string reason)
    {
        state.Return(_timeProvider.GetUtcNow());
        _ejectedCount--;
        RecordEvent("returned");
        Log.EjectionEnded(_logger, _service, state.Endpoint.ToString(), reason);
    }

    /// <summary>Active health: applies one probe result of a loop still running; a stopped loop's result is dropped (returns <see langword="false"/>).</summary>
    private bool OnProbeResult(PodEndpoint endpoint, ProbeResult result, CancellationToken loop)
    {
        lock (_lock)
        {
            if (_disposed || loop.IsCancellationRequested || !_states.TryGetValue(endpoint, out EndpointHealthState? state))
            {
                return false;
            }

            EndpointHealth? from = state.RecordProbe(result, _timeProvider.GetUtcNow(), _active.HealthyThreshold, _active.UnhealthyThreshold);
            if (from is { } previous && state.Health == EndpointHealth.Healthy)
            {
                RecordEvent("healthy");
                Log.BecameHealthy(_logger, _service, endpoint.ToString(), previous, state.ConsecutiveSuccesses);
            }
            else if (from is { } before)
            {
                RecordEvent("unhealthy");
                Log.BecameUnhealthy(_logger, _service, endpoint.ToString(), before, state.ConsecutiveFailures, state.LastError);
            }

            if (result.Succeeded && state.IsEjected)
            {
                Return(state, "an active probe passed");
            }

            // Every result is an event: the details a snapshot carries are as of its publication.
            _sink.OnStatus(state.ToStatus());
            if (result.IsUnreachable)
            {
                _sink.OnUnreachable(endpoint);
            }

            return true;
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
                state.StopEjectionTimer();
            }
        }

        if (_judge is not null)
        {
            await _judge.DisposeAsync().ConfigureAwait(false);
        }

        if (_monitor is not null)
        {
            await _monitor.DisposeAsync().ConfigureAwait(false);
        }
    }
}
