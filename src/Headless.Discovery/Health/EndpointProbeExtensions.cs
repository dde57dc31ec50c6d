using System.Net.Sockets;

namespace Headless.Discovery;

/// <summary>Helpers for running an <see cref="IEndpointProbe"/> once, as the monitor does.</summary>
public static class EndpointProbeExtensions
{
    /// <summary>
    /// Runs <paramref name="probe"/> against <paramref name="endpoint"/> once with a timeout, measures its latency on
    /// <paramref name="timeProvider"/>, and turns a timeout or an exception into <see cref="ProbeResult.Unhealthy"/>.
    /// A probe that ignores its cancellation token is abandoned when the timeout elapses or
    /// <paramref name="cancellationToken"/> is cancelled; an exception it throws later is observed, never reported as an
    /// unobserved task exception. Thread-safe.
    /// </summary>
    /// <param name="probe">The probe.</param>
    /// <param name="endpoint">The pod to check.</param>
    /// <param name="timeout">How long the probe may take; must be positive.</param>
    /// <param name="timeProvider">The clock for the timeout and the latency. Default: <see cref="TimeProvider.System"/>.</param>
    /// <param name="cancellationToken">Cancels the probe; cancellation surfaces as <see cref="OperationCanceledException"/>.</param>
    /// <returns>The result, with <see cref="ProbeResult.Latency"/> set to the measured time.</returns>
    public static async ValueTask<ProbeResult> ProbeAsync(
        this IEndpointProbe probe,
        PodEndpoint endpoint,
        TimeSpan timeout,
        TimeProvider? timeProvider = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(probe);
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        timeProvider ??= TimeProvider.System;

        using var timeoutCts = new CancellationTokenSource(timeout, timeProvider);
        using CancellationTokenRegistration link = cancellationToken.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), timeoutCts);
        long started = timeProvider.GetTimestamp();
        Task<ProbeResult>? pending = null;
        try
        {
            ValueTask<ProbeResult> running = probe.ProbeAsync(endpoint, timeoutCts.Token);
            ProbeResult result;
            if (running.IsCompleted)
            {
                result = running.Result;
            }
            else
            {
                pending = running.AsTask();
                result = await pending.WaitAsync(timeoutCts.Token).ConfigureAwait(false);
            }

            return result.WithLatency(timeProvider.GetElapsedTime(started));
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            TimeSpan elapsed = timeProvider.GetElapsedTime(started);
            return ex is OperationCanceledException && timeoutCts.IsCancellationRequested
                ? ProbeResult.Unhealthy($"timed out after {timeout.TotalMilliseconds:0} ms", elapsed)
                : ProbeResult.Failed(ex).WithLatency(elapsed);
        }
        finally
        {
            // Unless the probe's own result came back, a probe that ignored its token is abandoned here: on its timeout,
            // or on the caller's cancellation (its pod left the set, the service was disposed). Observe its late fault,
            // or it would surface as an UnobservedTaskException.
            if (pending is { IsCompletedSuccessfully: false, IsCanceled: false })
            {
                _ = pending.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
        }
    }

    /// <summary>A short, credential-free description of a probe exception: the innermost meaningful message.</summary>
    internal static string Describe(Exception ex)
    {
        Exception inner = ex;
        while (inner is not SocketException && inner.InnerException is not null)
        {
            inner = inner.InnerException;
        }

        return inner is SocketException se
            ? $"{se.SocketErrorCode}: {se.Message}"
            : $"{inner.GetType().Name}: {inner.Message}";
    }
}
