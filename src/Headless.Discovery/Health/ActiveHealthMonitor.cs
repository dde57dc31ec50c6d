using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging;

namespace Headless.Discovery;

/// <summary>
/// Probes every pod of one service on an interval (start to start, with jitter), each probe bounded by a timeout, at
/// most <see cref="ActiveHealthOptions.MaxConcurrentProbes"/> in flight at once. One loop per pod: a new pod is probed
/// at once (after the initial jitter), a removed pod's loop is cancelled mid-probe. Time and timers come from the
/// <see cref="TimeProvider"/>.
/// </summary>
/// <remarks>Thread-safe. Results go to the callback given at construction; the monitor keeps no health state itself.</remarks>
internal sealed partial class ActiveHealthMonitor : IAsyncDisposable
{
    private readonly IEndpointProbe _probe;
    private readonly bool _ownsProbe;
    private readonly ActiveHealthOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly Action<EndpointHealthState, ProbeResult> _onResult;
    private readonly string _service;
    private readonly KeyValuePair<string, object?> _serviceTag;
    private readonly SemaphoreSlim _concurrency;
    private readonly CancellationTokenSource _disposeCts = new();
    private readonly ConcurrentDictionary<EndpointHealthState, Task> _loops = new();
    private readonly List<(long Count, TaskCompletionSource Completion)> _probeWaiters = [];
    private long _completedProbes;
    private int _inFlight;
    private int _maxInFlight;
    private volatile bool _disposed;

    public ActiveHealthMonitor(
        ServiceName service,
        IEndpointProbe probe,
        bool ownsProbe,
        ActiveHealthOptions options,
        TimeProvider timeProvider,
        ILogger logger,
        Action<EndpointHealthState, ProbeResult> onResult)
    {
        _service = service.Value;
        _serviceTag = new KeyValuePair<string, object?>(DiscoveryTelemetry.ServiceTag, service.Value);
        _probe = probe;
        _ownsProbe = ownsProbe;
        _options = options;
        _timeProvider = timeProvider;
        _logger = logger;
        _onResult = onResult;
        _concurrency = new SemaphoreSlim(options.MaxConcurrentProbes, options.MaxConcurrentProbes);
    }

    /// <summary>The probe in use.</summary>
    public IEndpointProbe Probe => _probe;

    /// <summary>For tests: random numbers in [0, 1) used for jitter. Default: <see cref="Random.Shared"/>.</summary>
    [SuppressMessage("Security", "CA5394:Do not use insecure randomness", Justification = "Jitter, not security.")]
    internal Func<double> NextRandom { get; set; } = Random.Shared.NextDouble;

    /// <summary>Clock movement while arming a probe timer that is small enough to ignore.</summary>
    private static readonly TimeSpan ClockJumpTolerance = TimeSpan.FromMilliseconds(1);

    /// <summary>Probes completed since the monitor was created (results delivered).</summary>
    internal long CompletedProbes => Interlocked.Read(ref _completedProbes);

    /// <summary>The most probes ever in flight at once.</summary>
    internal int MaxObservedConcurrency => Volatile.Read(ref _maxInFlight);

    /// <summary>Pods with a running probe loop.</summary>
    internal int ActiveLoops => _loops.Count;

    /// <summary>For tests: the running probe loop of <paramref name="endpoint"/>, or a completed task when there is none.</summary>
    internal Task LoopOf(PodEndpoint endpoint)
    {
        foreach (KeyValuePair<EndpointHealthState, Task> loop in _loops)
        {
            if (loop.Key.Endpoint.Equals(endpoint))
            {
                return loop.Value;
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>Starts probing <paramref name="state"/>'s pod.</summary>
    public void Start(EndpointHealthState state)
    {
        if (_disposed)
        {
            return;
        }

        var cts = CancellationTokenSource.CreateLinkedTokenSource(_disposeCts.Token);
        state.ProbeCts = cts;
        // The first due time is fixed now, when the pod joins, not when the loop gets a thread.
        DateTimeOffset firstDue = _timeProvider.GetUtcNow() + InitialDelay();
        Task loop = Task.Run(() => RunAsync(state, firstDue, cts.Token), CancellationToken.None);
        _loops[state] = loop;
        _ = loop.ContinueWith(
            static (t, s) =>
            {
                var (monitor, pod, source) = ((ActiveHealthMonitor, EndpointHealthState, CancellationTokenSource))s!;
                monitor._loops.TryRemove(new KeyValuePair<EndpointHealthState, Task>(pod, t));
                source.Dispose();
            },
            (this, state, cts),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>Stops probing <paramref name="state"/>'s pod; an in-flight probe is cancelled and its result dropped.</summary>
    public static void Stop(EndpointHealthState state)
    {
        CancellationTokenSource? cts = state.ProbeCts;
        state.ProbeCts = null;
        try
        {
            cts?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The loop ended already.
        }
    }

    /// <summary>The delay before a new pod's first probe: uniform in [0, InitialJitter].</summary>
    internal TimeSpan InitialDelay() =>
        _options.InitialJitter <= TimeSpan.Zero ? TimeSpan.Zero : TimeSpan.FromTicks((long)(_options.InitialJitter.Ticks * NextRandom()));

    /// <summary>The interval to the next probe: Interval × (1 ± IntervalJitter).</summary>
    internal TimeSpan NextInterval() => Jitter.Apply(_options.Interval, _options.IntervalJitter, NextRandom());

    private async Task RunAsync(EndpointHealthState state, DateTimeOffset due, CancellationToken cancellationToken)
    {
        // Due times are absolute, so a delay registered late (a slow loop, or fake time advanced early) is not lost.
        try
        {
            while (true)
            {
                await WaitUntilAsync(due, cancellationToken).ConfigureAwait(false);

                DateTimeOffset started = _timeProvider.GetUtcNow();
                ProbeResult result = await ProbeOnceAsync(state.Endpoint, cancellationToken).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
                _onResult(state, result);
                if (!result.Succeeded)
                {
                    Log.ProbeFailed(_logger, _service, state.Endpoint.ToString(), result.Latency.TotalMilliseconds, result.Error);
                }

                CountCompleted();
                due = started + NextInterval();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The pod left the set, or the service is disposed.
        }
        catch (Exception ex)
        {
            // Only a bug gets here (probe exceptions become results); say so rather than fail silently.
            Log.ProbeLoopFailed(_logger, _service, state.Endpoint.ToString(), ex);
        }
    }

    /// <summary>
    /// Waits until <paramref name="due"/>. A timer is armed relative to the clock at the moment it is armed, so if the
    /// clock jumps between reading it and arming the timer (a thread descheduled, or fake time advanced by a test), the
    /// timer would fire late by the jump: re-arm for what is left whenever that happens.
    /// </summary>
    private async Task WaitUntilAsync(DateTimeOffset due, CancellationToken cancellationToken)
    {
        for (int attempt = 0; attempt < 100; attempt++)
        {
            TimeSpan wait = due - _timeProvider.GetUtcNow();
            if (wait <= TimeSpan.Zero)
            {
                return;
            }

            using var armed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            Task delay = Task.Delay(wait, _timeProvider, armed.Token);
            if (wait - (due - _timeProvider.GetUtcNow()) > ClockJumpTolerance)
            {
                await armed.CancelAsync().ConfigureAwait(false);
                continue;
            }

            await delay.ConfigureAwait(false);
            return;
        }
    }

    private async ValueTask<ProbeResult> ProbeOnceAsync(PodEndpoint endpoint, CancellationToken cancellationToken)
    {
        await _concurrency.WaitAsync(cancellationToken).ConfigureAwait(false);
        int inFlight = Interlocked.Increment(ref _inFlight);
        int max = Volatile.Read(ref _maxInFlight);
        while (inFlight > max)
        {
            int seen = Interlocked.CompareExchange(ref _maxInFlight, inFlight, max);
            if (seen == max)
            {
                break;
            }

            max = seen;
        }

        try
        {
            ProbeResult result = await _probe.ProbeAsync(endpoint, _options.Timeout, _timeProvider, cancellationToken).ConfigureAwait(false);
            var tags = new TagList { _serviceTag, { DiscoveryTelemetry.ResultTag, result.Succeeded ? "healthy" : "unhealthy" } };
            DiscoveryTelemetry.ProbeDuration.Record(result.Latency.TotalSeconds, tags);
            return result;
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
            _concurrency.Release();
        }
    }

    private void CountCompleted()
    {
        long count = Interlocked.Increment(ref _completedProbes);
        lock (_probeWaiters)
        {
            for (int i = _probeWaiters.Count - 1; i >= 0; i--)
            {
                if (_probeWaiters[i].Count <= count)
                {
                    _probeWaiters[i].Completion.TrySetResult();
                    _probeWaiters.RemoveAt(i);
                }
            }
        }
    }

    /// <summary>For tests: completes once <see cref="CompletedProbes"/> reaches <paramref name="count"/>.</summary>
    internal Task WaitForCompletedProbesAsync(long count)
    {
        lock (_probeWaiters)
        {
            if (CompletedProbes >= count)
            {
                return Task.CompletedTask;
            }

            var completion = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _probeWaiters.Add((count, completion));
            return completion.Task;
        }
    }

    /// <summary>Cancels every probe loop and waits for them to end; disposes the probe if the monitor created it.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _disposeCts.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_loops.Values).ConfigureAwait(false);
        if (_ownsProbe && _probe is IDisposable disposable)
        {
            disposable.Dispose();
        }

        _disposeCts.Dispose();
    }
}
