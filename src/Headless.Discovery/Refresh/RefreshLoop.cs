using Microsoft.Extensions.Logging;

namespace Headless.Discovery;

/// <summary>
/// Runs refresh rounds: on a timer armed for the delay the <see cref="MembershipPolicy"/> chose, or on demand, never two
/// at once. Each round resolves, asks the policy, hands a new membership (if any) to the sink given at construction, and
/// arms the timer for the next round as its last act.
/// </summary>
/// <remarks>
/// Thread-safe. A resolver that throws counts as a failed round; an unexpected error is logged and retried after the
/// failure backoff, so the loop never stops until it is disposed.
/// </remarks>
internal sealed partial class RefreshLoop : IAsyncDisposable
{
    /// <summary>A timer tick this close to the due time counts as due (system timers are coarser than the clock).</summary>
    private static readonly TimeSpan TimerSlack = TimeSpan.FromMilliseconds(15);

    private readonly ServiceName _service;
    private readonly IEndpointResolver _resolver;
    private readonly MembershipPolicy _policy;
    private readonly RefreshSchedule _schedule;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly Action<Membership> _publish;
    private readonly CancellationToken _stopping;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly object _lifecycleLock = new();
    private ITimer? _timer;
    private Task _scheduledRefresh = Task.CompletedTask;
    private DateTimeOffset _nextRefreshDue = DateTimeOffset.MaxValue;
    private DateTimeOffset _lastRoundStartedAt = DateTimeOffset.MinValue;
    private bool _roundRunning;
    private bool _requestedDuringRound;
    private bool _started;
    private bool _disposed;

    /// <param name="service">The service to resolve.</param>
    /// <param name="resolver">Resolves it each round.</param>
    /// <param name="policy">Decides each round's membership and the next delay.</param>
    /// <param name="schedule">The failure backoff after an unexpected error.</param>
    /// <param name="timeProvider">The clock and the timer.</param>
    /// <param name="logger">Where loop errors go.</param>
    /// <param name="publish">Receives every new membership, one round at a time.</param>
    /// <param name="stopping">Cancelled when the owner is disposed; cancels an in-flight round.</param>
    public RefreshLoop(
        ServiceName service,
        IEndpointResolver resolver,
        MembershipPolicy policy,
        RefreshSchedule schedule,
        TimeProvider timeProvider,
        ILogger logger,
        Action<Membership> publish,
        CancellationToken stopping)
    {
        _service = service;
        _resolver = resolver;
        _policy = policy;
        _schedule = schedule;
        _timeProvider = timeProvider;
        _logger = logger;
        _publish = publish;
        _stopping = stopping;
    }

    /// <summary>Starts the timer and the first round; idempotent, and a no-op once disposed.</summary>
    public void Start()
    {
        lock (_lifecycleLock)
        {
            if (_started || _disposed)
            {
                return;
            }

            _started = true;
            _timer = _timeProvider.CreateTimer(static state => ((RefreshLoop)state!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _nextRefreshDue = _timeProvider.GetUtcNow();
            _scheduledRefresh = Task.Run(RunScheduledRefreshAsync);
        }
    }

    /// <summary>Runs one round now (after any round in progress) and reschedules the next one.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await RoundAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Asks for an early round (a pod refused a connection: it may have left): at once when the last round started at
    /// least <see cref="RefreshSchedule.MinInterval"/> ago, else when that much time has passed since it started, and
    /// never later than the round already scheduled. Requests before that round runs make one round; a request while a
    /// round runs makes the next one early. Returns at once; a no-op before <see cref="Start"/> and after disposal.
    /// </summary>
    public void RequestEarly()
    {
        lock (_lifecycleLock)
        {
            if (_disposed || _timer is null)
            {
                return;
            }

            DateTimeOffset now = _timeProvider.GetUtcNow();
            _requestedDuringRound |= _roundRunning;
            DateTimeOffset due = EarliestAllowed(now);
            if (due < _nextRefreshDue)
            {
                _nextRefreshDue = due;
                _timer.Change(due - now, Timeout.InfiniteTimeSpan);
                Log.EarlyRefreshRequested(_logger, _service.Value, due - now);
            }
        }
    }

    /// <summary>The earliest an early round may start: one minimum interval after the last round started. Caller holds <see cref="_lifecycleLock"/>.</summary>
    private DateTimeOffset EarliestAllowed(DateTimeOffset now)
    {
        // Before the first round, MinValue + the interval is long past: at once.
        DateTimeOffset allowed = _lastRoundStartedAt + _schedule.MinInterval;
        return allowed > now ? allowed : now;
    }

    private void OnTimer()
    {
        lock (_lifecycleLock)
        {
            if (_disposed)
            {
                return;
            }

            Task previous = _scheduledRefresh;
            _scheduledRefresh = previous.IsCompleted
                ? RunScheduledRefreshAsync()
                : previous.ContinueWith(static (_, s) => ((RefreshLoop)s!).RunScheduledRefreshAsync(), this, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).Unwrap();
        }
    }

    private async Task RunScheduledRefreshAsync()
    {
        CancellationToken token = _stopping;
        try
        {
            await _gate.WaitAsync(token).ConfigureAwait(false);
            try
            {
                // A RefreshAsync call may have run (and rescheduled) while this timer tick waited for the gate,
                // or the timer fired a little early (its clock is coarser than GetUtcNow): re-arm for the rest, so
                // the loop never stops. Re-arming for the same due time is harmless.
                DateTimeOffset now = _timeProvider.GetUtcNow();
                if (now + TimerSlack < _nextRefreshDue)
                {
                    Schedule(_nextRefreshDue - now);
                    return;
                }

                await RoundAsync(token).ConfigureAwait(false);
            }
            finally
            {
                _gate.Release();
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Disposed.
        }
        catch (Exception ex)
        {
            // Never let the background loop die: log and try again after the failure backoff.
            Log.RefreshLoopError(_logger, _service.Value, ex);
            Schedule(_schedule.AfterFailure(Math.Max(1, _policy.ConsecutiveFailures)));
        }
    }

    /// <summary>One round. Caller holds <see cref="_gate"/>.</summary>
    private async Task RoundAsync(CancellationToken cancellationToken)
    {
        lock (_lifecycleLock)
        {
            // Requests made before this round are answered by it.
            _lastRoundStartedAt = _timeProvider.GetUtcNow();
            _roundRunning = true;
            _requestedDuringRound = false;
        }

        ResolutionResult result;
        try
        {
            result = await _resolver.ResolveAsync(_service, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            // A custom resolver that throws is treated like a failed DNS round: never lose the set over it.
            result = ResolutionResult.Failed(ex);
        }

        Apply(result);
    }

    /// <summary>Hands on what the round decided (not in the async method, so its state machine stays small).</summary>
    private void Apply(ResolutionResult result)
    {
        (Membership? next, TimeSpan delay) = _policy.Decide(result, _timeProvider.GetUtcNow());
        try
        {
            if (next is not null)
            {
                _publish(next);
            }
        }
        finally
        {
            // Last: once the timer is armed for the next round, this one has been handed on completely.
            Schedule(delay);
        }
    }

    private void Schedule(TimeSpan delay)
    {
        lock (_lifecycleLock)
        {
            if (_disposed || _timer is null)
            {
                return;
            }

            DateTimeOffset now = _timeProvider.GetUtcNow();
            DateTimeOffset due = now + delay;
            if (_requestedDuringRound && EarliestAllowed(now) is var early && early < due)
            {
                // Asked for while the round ran (its answer may predate the failure): the next round comes early.
                due = early;
            }

            _roundRunning = false;
            _requestedDuringRound = false;

            _nextRefreshDue = due;
            _timer.Change(due - now, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Stops the timer and waits for a scheduled round to end (the owner cancels <c>stopping</c> first).</summary>
    public async ValueTask DisposeAsync()
    {
        Task scheduled;
        lock (_lifecycleLock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            scheduled = _scheduledRefresh;
        }

        if (_timer is not null)
        {
            await _timer.DisposeAsync().ConfigureAwait(false);
        }

        try
        {
            await scheduled.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Expected when the round was cancelled by disposal.
        }
    }
}
