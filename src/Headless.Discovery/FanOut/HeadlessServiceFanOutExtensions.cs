namespace Headless.Discovery;

/// <summary>Fan-out: run one operation against every pod of a headless Service.</summary>
public static class HeadlessServiceFanOutExtensions
{
    /// <summary>
    /// Runs <paramref name="operation"/> against the pods of the current snapshot (waiting for the first resolution if
    /// needed), at most <see cref="FanOutOptions.MaxParallelism"/> at a time, and completes by the rule of
    /// <see cref="FanOutOptions.Mode"/>.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Calls run on the thread pool (under the caller's execution context), never on the caller's thread: the returned
    /// task comes back at once even when the operation blocks synchronously.
    /// </para>
    /// <para>
    /// <see cref="FanOutMode.All"/> and <see cref="FanOutMode.Quorum"/> start the targeted pods in snapshot order;
    /// <see cref="FanOutMode.FirstSuccess"/> starts at a random pod (so that clients spread; drawn from
    /// <see cref="FanOutOptions.Random"/>) and goes on in snapshot order, wrapping around.
    /// </para>
    /// <para>
    /// Each call gets a token, cancelled when its per-pod timeout passes or when the fan-out gives up on it (goal decided
    /// without it, deadline, caller cancelled, service disposed). With <see cref="FanOutOptions.PerPodTimeout"/> set, every
    /// call has a token of its own; without it the calls share one token, which is cancelled once the fan-out gives up on
    /// any call (so the calls that already finished see it cancelled too). A fan-out that gives up on no call cancels no
    /// token. The per-pod timeout and the deadline run on the service's
    /// <see cref="IHeadlessService.TimeProvider"/> and hold whether or not the operation (or <see cref="FanOutOptions.Pipeline"/>)
    /// honours its token: at its timeout a call is reported <see cref="FanOutPodStatus.TimedOut"/> and its slot goes to the
    /// next pod, so a hung call holds a slot no longer than its timeout. At most <see cref="FanOutOptions.MaxParallelism"/>
    /// calls whose token is not cancelled run at once; an abandoned call that ignores its token may keep running, and is
    /// awaited in the background so its late result is dropped and its exception observed.
    /// </para>
    /// <para>
    /// Each pod's status is decided once (see <see cref="FanOutPodStatus"/>); a call never succeeds after its per-pod
    /// timeout. <see cref="FanOutResult{T}.Succeeded"/>, <see cref="FanOutResult{T}.Failed"/>,
    /// <see cref="FanOutResult{T}.GoalMet"/> and <see cref="FanOutResult{T}.DeadlineExceeded"/> are derived from those
    /// statuses. Successes, failures and per-pod timeouts go to passive health (see <see cref="FanOutOptions.ReportOutcomes"/>);
    /// calls cancelled or cut by the deadline do not. Thread-safe: fan-outs over one service may run concurrently.
    /// </para>
    /// </remarks>
    /// <typeparam name="T">The operation's result type.</typeparam>
    /// <param name="service">The service whose pods are called.</param>
    /// <param name="operation">The call to make to one pod; throw to report a failure.</param>
    /// <param name="options">How to run. Default: a new <see cref="FanOutOptions"/> (all pods, 32 at a time, no timeouts).</param>
    /// <param name="cancellationToken">Cancels the fan-out: calls in flight are cancelled and <see cref="OperationCanceledException"/> is thrown.</param>
    /// <returns>One result per pod and whether the mode's goal was met; never throws for pod failures, timeouts or the deadline.</returns>
    /// <exception cref="ArgumentException">An option is out of range (the message names it).</exception>
    /// <exception cref="OperationCanceledException">
    /// <paramref name="cancellationToken"/> was cancelled before the goal was decided; thrown only then, and it carries
    /// that token.
    /// </exception>
    /// <exception cref="ObjectDisposedException">
    /// The service was disposed (its <see cref="IHeadlessService.Stopping"/> token was cancelled) before the call, while
    /// the fan-out waited for the first resolution, or while calls were in flight before the goal was decided (calls in
    /// flight are then cancelled). A
    /// fan-out whose goal was decided before the disposal returns its result. When the caller's token is cancelled too,
    /// <see cref="OperationCanceledException"/> wins.
    /// </exception>
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

        // Disposal of the service is its own condition, told apart from the caller's cancellation.
        CancellationToken stopping = service.Stopping;
        ObjectDisposedException.ThrowIf(stopping.IsCancellationRequested, service);

        TimeProvider time = service.TimeProvider;
        TimeSpan? deadline = options.Deadline;
        long startedAt = time.GetTimestamp();
        EndpointSet? snapshot = service.Current;
        if (!snapshot.IsInitialized)
        {
            snapshot = await WaitForFirstSnapshotAsync(service, deadline, time, stopping, cancellationToken).ConfigureAwait(false);
            if (snapshot is null)
            {
                // The deadline passed before the first resolution: nothing was called.
                return FanOutResult<T>.DeadlineBeforeAnyCall(service.Current, options.Mode, time.GetElapsedTime(startedAt));
            }
        }

        // The deadline counts from this call, so the time spent waiting for the first resolution is part of it.
        TimeSpan? deadlineLeft = null;
        if (deadline is { } total)
        {
            TimeSpan elapsed = time.GetElapsedTime(startedAt);
            if (elapsed >= total)
            {
                // The resolution came back after the deadline but before its (late) timer fired: call no pod.
                return FanOutResult<T>.DeadlineBeforeAnyCall(snapshot, options.Mode, elapsed);
            }

            deadlineLeft = total - elapsed;
        }

        var run = new FanOutRun<T>(service, operation, options, time, snapshot, startedAt);
        return await run.RunAsync(deadlineLeft, cancellationToken, stopping).ConfigureAwait(false);
    }

    /// <summary>
    /// Waits for the service's first resolution, bounded by the deadline. Returns the snapshot, or <see langword="null"/>
    /// when the deadline passed first; throws when the caller cancelled or the service was disposed meanwhile.
    /// </summary>
    private static async Task<EndpointSet?> WaitForFirstSnapshotAsync(
        IHeadlessService service,
        TimeSpan? deadline,
        TimeProvider time,
        CancellationToken stopping,
        CancellationToken cancellationToken)
    {
        using var wait = deadline is { } limit
            ? new CancellationTokenSource(limit, time)
            : new CancellationTokenSource();
        using CancellationTokenRegistration callerLink = cancellationToken.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), wait);
        using CancellationTokenRegistration stoppingLink = stopping.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), wait);
        EndpointSet? snapshot = null;
        try
        {
            snapshot = await service.GetEndpointsAsync(wait.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (wait.IsCancellationRequested)
        {
            // The caller's token, the disposal or the deadline: the checks below tell which.
        }

        // Disposal may also end the wait with the snapshot it published on the way out.
        cancellationToken.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(stopping.IsCancellationRequested, service);
        return snapshot;
    }
}
