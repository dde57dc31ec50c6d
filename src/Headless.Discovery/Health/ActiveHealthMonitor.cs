using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Headless.Discovery;

/// <summary>
/// Probes every pod of one service on an interval (start to start, with jitter), each probe bounded by a timeout, at
/// most <see cref="ActiveHealthOptions.MaxConcurrentProbes"/> in flight at once. One loop per pod: a new pod is probed
/// at once (after the initial jitter), a stopped pod's loop is cancelled mid-probe. Time and timers come from the
/// <see cref="TimeProvider"/>.
/// </summary>
/// <remarks>
/// Thread-safe. The monitor owns its loops and keeps no health state: each result goes to the callback given at
/// construction with the token of the loop that produced it, so a result of a stopped loop can be told apart. A probe
/// is recorded in <c>headless_discovery.probe.duration</c> once the callback has applied its result, so a reader of
/// that metric never sees a probe whose effect is not in the health state yet.
/// </remarks>
internal sealed partial class ActiveHealthMonitor : IAsyncDisposable
{
    /// <summary>Clock movement while arming a probe timer that is small enough to ignore.</summary>
    private static readonly TimeSpan ClockJumpTolerance = TimeSpan.FromMilliseconds(1);

    private readonly IEndpointProbe _probe;
    private readonly bool _ownsProbe;
    private readonly ActiveHealthOptions _options;
    private readonly ProbeSchedule _schedule;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly Func<PodEndpoint, ProbeResult, CancellationToken, bool> _onResult;
    private readonly string _service;
    private readonly KeyValuePair<string, object?> _serviceTag;
    private readonly SemaphoreSlim _concurrency;
    private readonly CancellationTokenSource _disposeCts = new();
    // Guarded by itself: the loops of current pods, and every loop not ended yet (a stopped one may still be finishing).
    private readonly Dictionary<PodEndpoint, CancellationTokenSource> _loops = [];
    private readonly HashSet<Task> _running = [];
    private bool _disposed;

    /// <param name="service">The service, for logs and metrics.</param>
    /// <param name="probe">The probe.</param>
    /// <param name="ownsProbe">Whether disposing the monitor disposes the probe.</param>
    /// <param name="options">Interval, timeout, jitter and concurrency (a frozen copy).</param>
    /// <param name="timeProvider">The clock and timers.</param>
    /// <param name="logger">Where probe failures go.</param>
    /// <param name="random01">Uniform samples in [0, 1) for jitter.</param>
    /// <param name="onResult">Receives each result with its loop's token; returns whether it applied the result (a stopped loop's is dropped).</param>
    public ActiveHealthMonitor(
        ServiceName service,
        IEndpointProbe probe,
        bool ownsProbe,
        ActiveHealthOptions options,
        TimeProvider timeProvider,
        ILogger logger,
        Func<double> random01,
        Func<PodEndpoint, ProbeResult, CancellationToken, bool> onResult)
    {
        _service = service.Value;
        _serviceTag = new KeyValuePair<string, object?>(DiscoveryTelemetry.ServiceTag, service.Value);
        _probe = probe;
        _ownsProbe = ownsProbe;
        _options = options;
        _schedule = new ProbeSchedule(options, random01);
        _timeProvider = timeProvider;
        _logger = logger;
        _onResult = onResult;
        _concurrency = new SemaphoreSlim(options.MaxConcurrentProbes, options.MaxConcurrentProbes);
    }

    /// <summary>Starts probing <paramref name="endpoint"/> (a no-op when it is probed already or the monitor is disposed).</summary>
    public void Start(PodEndpoint endpoint)
    {
        lock (_loops)
        {
            if (_disposed || _loops.ContainsKey(endpoint))
            {
                return;
            }

            var cts = CancellationTokenSource.CreateLinkedTokenSource(_disposeCts.Token);
            // The first due time is fixed now, when the pod joins, not when the loop gets a thread.
            DateTimeOffset firstDue = _timeProvider.GetUtcNow() + _schedule.InitialDelay();
            Task loop = Task.Run(() => RunAsync(endpoint, firstDue, cts.Token), CancellationToken.None);
            _loops[endpoint] = cts;
            _running.Add(loop);
            _ = loop.ContinueWith(
                static (t, s) =>
                {
                    var (monitor, pod, source) = ((ActiveHealthMonitor, PodEndpoint, CancellationTokenSource))s!;
                    monitor.OnLoopEnded(t, pod, source);
                },
                (this, endpoint, cts),
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }
    }

    /// <summary>Stops probing <paramref name="endpoint"/>; an in-flight probe is cancelled and its result dropped.</summary>
    public void Stop(PodEndpoint endpoint)
    {
        CancellationTokenSource? cts;
        lock (_loops)
        {
            if (!_loops.Remove(endpoint, out cts))
            {
                return;
            }
        }

        try
        {
            cts.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The loop ended already.
        }
    }

    private void OnLoopEnded(Task loop, PodEndpoint endpoint, CancellationTokenSource cts)
    {
        lock (_loops)
        {
            _running.Remove(loop);
            if (_loops.TryGetValue(endpoint, out CancellationTokenSource? current) && ReferenceEquals(current, cts))
            {
                _loops.Remove(endpoint);
            }
        }

        cts.Dispose();
    }

    private async Task RunAsync(PodEndpoint endpoint, DateTimeOffset due, CancellationToken cancellationToken)
    {
        // Due times are absolute, so a delay registered late (a slow loop, or fake time advanced early) is not lost.
        try
        {
            while (true)
            {
                await WaitUntilAsync(due, cancellationToken).ConfigureAwait(false);

                DateTimeOffset started = _timeProvider.GetUtcNow();
                ProbeResult result = await ProbeOnceAsync(endpoint, cancellationToken).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
                if (_onResult(endpoint, result, cancellationToken))
                {
                    var tags = new TagList { _serviceTag, { DiscoveryTelemetry.ResultTag, result.Succeeded ? "healthy" : "unhealthy" } };
                    DiscoveryTelemetry.ProbeDuration.Record(result.Latency.TotalSeconds, tags);
                }

                if (!result.Succeeded)
                {
                    Log.ProbeFailed(_logger, _service, endpoint.ToString(), result.Latency.TotalMilliseconds, result.Error);
                }

                due = started + _schedule.NextInterval();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The pod left the set, or the service is disposed.
        }
        catch (Exception ex)
        {
            // Only a bug gets here (probe exceptions become results); say so rather than fail silently.
            Log.ProbeLoopFailed(_logger, _service, endpoint.ToString(), ex);
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
        try
        {
            return await _probe.ProbeAsync(endpoint, _options.Timeout, _timeProvider, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _concurrency.Release();
        }
    }

    /// <summary>Cancels every probe loop and waits for them to end; disposes the probe if the monitor created it.</summary>
    public async ValueTask DisposeAsync()
    {
        Task[] loops;
        lock (_loops)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            loops = [.. _running];
        }

        await _disposeCts.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(loops).ConfigureAwait(false);
        if (_ownsProbe && _probe is IDisposable disposable)
        {
            disposable.Dispose();
        }

        _disposeCts.Dispose();
    }
}
