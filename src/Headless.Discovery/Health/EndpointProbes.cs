using System.Net.Sockets;

namespace Headless.Discovery;

/// <summary>
/// Makes the built-in probes, and runs a probe once as the health monitor does. Probes are made here as selectors are
/// made by <see cref="EndpointSelectors"/>; <see cref="ActiveHealthOptions.Probe"/> takes the same specifications.
/// </summary>
public static class EndpointProbes
{
    /// <summary>
    /// Creates the probe a specification names, as <see cref="ActiveHealthOptions.Probe"/> would:
    /// <list type="bullet">
    /// <item><c>tcp</c>: opens a TCP connection to the pod and resets it at once; healthy when it is accepted (like a
    /// Kubernetes <c>tcpSocket</c> probe). No TIME_WAIT sockets are left behind.</item>
    /// <item><c>http:&lt;path&gt;</c> or <c>https:&lt;path&gt;</c>: a <c>GET</c> of the path on the pod's address and
    /// port, on a fresh connection, never following redirects; healthy when the status is within
    /// [<see cref="HttpProbeOptions.MinHealthyStatus"/>, <see cref="HttpProbeOptions.MaxHealthyStatus"/>] (default
    /// 200-399), like a Kubernetes <c>httpGet</c> probe. Over HTTPS the TLS server name is the pod's hostname when known,
    /// else <see cref="HttpProbeOptions.Host"/>, else the address. Errors name the status or the socket error, never
    /// the URL.</item>
    /// </list>
    /// A pod without a port (port 0) fails either probe. The probe is thread-safe: one instance serves every pod.
    /// </summary>
    /// <param name="spec"><c>tcp</c>, <c>http:&lt;path&gt;</c> or <c>https:&lt;path&gt;</c> (case-insensitive kind; the
    /// path starts with <c>/</c>).</param>
    /// <param name="http">How an HTTP probe talks to the pod and what counts as healthy (copied). Default: 200-399, 4 KiB
    /// of body read and discarded. Ignored by <c>tcp</c>.</param>
    /// <returns>The probe. An HTTP probe is <see cref="IDisposable"/> (it owns a connection handler): dispose it when done.</returns>
    /// <exception cref="InvalidOptionsException"><paramref name="spec"/> is not a probe (<c>none</c> included), or an
    /// option of <paramref name="http"/> is invalid; every problem is named at once.</exception>
    public static IEndpointProbe Create(string spec, HttpProbeOptions? http = null)
    {
        var problems = new OptionProblems();
        string? error = ActiveHealthOptions.TryParseProbe(spec, out string kind, out string? path);
        if (error is null && kind == "none")
        {
            error = "'none' turns active checks off; it is not a probe: use tcp, http:<path> or https:<path>.";
        }

        if (error is not null)
        {
            problems.Add(nameof(spec), error);
        }

        (http ?? new HttpProbeOptions()).Collect(problems.Under(nameof(http)));
        problems.ThrowIfAny(nameof(spec));
        return kind == "tcp" ? new TcpConnectProbe() : new HttpProbe(path!, kind == "https", http);
    }

    /// <summary>
    /// A probe that runs your code: a database ping, a gRPC health call, anything that can say yes or no about one pod.
    /// Thread-safe if the delegate is; the monitor calls it for many pods at once.
    /// </summary>
    /// <param name="probe">Checks one pod; should honour the token (it carries the timeout). Use
    /// <see cref="ProbeResult.Healthy"/> and <see cref="ProbeResult.Unhealthy"/> for the answer.</param>
    /// <returns>The probe.</returns>
    public static IEndpointProbe FromDelegate(Func<PodEndpoint, CancellationToken, ValueTask<ProbeResult>> probe) =>
        new DelegateProbe(probe);

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
