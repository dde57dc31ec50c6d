namespace Headless.Discovery;

/// <summary>Fan-out: run one operation against every pod of a headless Service.</summary>
public static class HeadlessServiceFanOutExtensions
{
    /// <summary>
    /// Runs <paramref name="operation"/> against the pods of the current snapshot (waiting for the first resolution if
    /// needed), at most <see cref="FanOutOptions.MaxParallelism"/> at a time, and completes by the rule of
    /// <see cref="FanOutOptions.Mode"/>. Calls still in flight when the fan-out completes are cancelled through their
    /// token and not awaited, so an operation that ignores its token cannot hold the fan-out up.
    /// </summary>
    /// <remarks>
    /// Each call gets a token that is cancelled by its per-pod timeout, by the deadline, when the fan-out completes, or
    /// when <paramref name="cancellationToken"/> is cancelled. Outcomes of finished calls go to passive health (see
    /// <see cref="FanOutOptions.ReportOutcomes"/>). Thread-safe: fan-outs over one service may run concurrently.
    /// </remarks>
    /// <typeparam name="T">The operation's result type.</typeparam>
    /// <param name="service">The service whose pods are called.</param>
    /// <param name="operation">The call to make to one pod; throw to report a failure.</param>
    /// <param name="options">How to run. Default: a new <see cref="FanOutOptions"/> (all pods, 32 at a time, no timeouts).</param>
    /// <param name="cancellationToken">Cancels the fan-out: calls in flight are cancelled and <see cref="OperationCanceledException"/> is thrown.</param>
    /// <returns>One result per pod and whether the mode's goal was met; never throws for pod failures, timeouts or the deadline.</returns>
    /// <exception cref="ArgumentException">An option is out of range (the message names it).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static async Task<FanOutResult<T>> FanOutAsync<T>(
        this IHeadlessService service,
        Func<PodEndpoint, CancellationToken, ValueTask<T>> operation,
        FanOutOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(operation);
        options ??= new FanOutOptions();
        options.Validate();
        cancellationToken.ThrowIfCancellationRequested();

        TimeProvider time = options.TimeProvider ?? TimeProvider.System;
        long startedAt = time.GetTimestamp();
        EndpointSet snapshot = service.Current;
        if (!snapshot.IsInitialized)
        {
            using var wait = options.Deadline is { } deadline
                ? new CancellationTokenSource(deadline, time)
                : new CancellationTokenSource();
            using CancellationTokenRegistration link = cancellationToken.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), wait);
            try
            {
                snapshot = await service.GetEndpointsAsync(wait.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // The deadline passed before the first resolution: nothing to call.
                return new FanOutResult<T>(service.Current, options.Mode, [], false, true, time.GetElapsedTime(startedAt));
            }
        }

        var run = new FanOutRun<T>(service, operation, options, time, snapshot, startedAt);
        if (service is not HeadlessService live)
        {
            return await run.RunAsync(cancellationToken).ConfigureAwait(false);
        }

        // Disposing the service cancels its fan-outs like the caller's token would: nothing outlives the service.
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, live.StoppingToken);
        return await run.RunAsync(stopping.Token).ConfigureAwait(false);
    }
}
