using System.Diagnostics.Metrics;

namespace Headless.Discovery.Tests.Health;

/// <summary>
/// Reads one service's health through its public metrics (<see cref="DiscoveryTelemetry.Name"/>): probes whose result
/// has been applied (<c>headless_discovery.probe.duration</c>) and the pods holding health state
/// (<c>headless_discovery.health.tracked_pods</c>). The listener sees every service in the process, so give the service
/// a name no other test uses (<see cref="UniqueName"/>).
/// </summary>
internal sealed class HealthMetrics : IDisposable
{
    private static int s_next;

    private readonly string _service;
    private readonly MeterListener _listener;
    private readonly object _lock = new();
    private readonly List<(long Count, TaskCompletionSource Reached)> _waiters = [];
    private readonly Dictionary<string, long> _events = [];
    private long _probes;
    private long? _trackedPods;

    public HealthMetrics(ServiceName service)
    {
        _service = service.Value;
        _listener = new MeterListener
        {
            InstrumentPublished = static (instrument, listener) =>
            {
                if (instrument.Meter.Name == DiscoveryTelemetry.Name
                    && instrument.Name is "headless_discovery.probe.duration" or "headless_discovery.health.tracked_pods" or "headless_discovery.health.events")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _listener.SetMeasurementEventCallback<double>((_, _, tags, _) => OnProbe(tags));
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            if (instrument.Name == "headless_discovery.health.events")
            {
                OnEvent(value, tags);
            }
            else
            {
                OnTrackedPods(value, tags);
            }
        });
        _listener.Start();
    }

    /// <summary>A service name no other test uses, so this listener counts only its own service.</summary>
    public static ServiceName UniqueName(string prefix = "web") =>
        ServiceName.Parse($"{prefix}-{Interlocked.Increment(ref s_next)}.default.svc.cluster.local");

    /// <summary>Probes completed and applied so far.</summary>
    public long Probes
    {
        get
        {
            lock (_lock)
            {
                return _probes;
            }
        }
    }

    /// <summary>The last recorded count of pods holding health state; <see langword="null"/> when the service holds none at all (no health room).</summary>
    public long? TrackedPods
    {
        get
        {
            lock (_lock)
            {
                return _trackedPods;
            }
        }
    }

    /// <summary>Health events counted so far (<c>headless_discovery.health.events</c>), by kind.</summary>
    public IReadOnlyDictionary<string, long> Events
    {
        get
        {
            lock (_lock)
            {
                return new Dictionary<string, long>(_events);
            }
        }
    }

    /// <summary>Completes once <paramref name="count"/> probes have completed and been applied.</summary>
    public Task WaitForProbesAsync(long count)
    {
        lock (_lock)
        {
            if (_probes >= count)
            {
                return Task.CompletedTask;
            }

            var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((count, reached));
            return reached.Task;
        }
    }

    public void Dispose() => _listener.Dispose();

    private bool IsOurs(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            if (tag.Key == "service")
            {
                return tag.Value as string == _service;
            }
        }

        return false;
    }

    private void OnProbe(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (!IsOurs(tags))
        {
            return;
        }

        lock (_lock)
        {
            _probes++;
            for (int i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Count <= _probes)
                {
                    _waiters[i].Reached.TrySetResult();
                    _waiters.RemoveAt(i);
                }
            }
        }
    }

    private void OnTrackedPods(long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (IsOurs(tags))
        {
            lock (_lock)
            {
                _trackedPods = value;
            }
        }
    }

    private void OnEvent(long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (!IsOurs(tags))
        {
            return;
        }

        string? kind = null;
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            kind = tag.Key == "kind" ? tag.Value as string : kind;
        }

        lock (_lock)
        {
            _events[kind ?? "?"] = _events.GetValueOrDefault(kind ?? "?") + value;
        }
    }
}
