using System.Collections.Immutable;
using System.Threading.Channels;
using Polly;

namespace Headless.Discovery;

/// <summary>
/// One fan-out. A single coordinator loop reads settled calls (and timer ticks) from a channel and decides what to start
/// next and when the mode's goal is decided. Each pod's result slot is settled exactly once, by compare-exchange: by the
/// call when it finishes, by its per-pod timer when the timeout passes first, or by the coordinator when it gives up on
/// the call; whoever loses drops its result. Calls run on the thread pool, never on the caller's thread, and are always
/// awaited to the end (so an abandoned call's late exception is observed). The result's counts, goal and deadline flag
/// are computed from the settled slots, never from the coordinator's running tallies, which may lag behind them.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "_stop and the per-call sources are left undisposed on purpose: abandoned calls may still observe their tokens; they own no timer.")]
internal sealed partial class FanOutRun<T>
{
    private const int HedgeTick = -1;
    private const int DeadlineTick = -2;
    private const int CallerCancelled = -3;
    private const int ServiceStopped = -4;

    // Marks a slot the coordinator took over; replaced by the final result before the run returns.
    private static readonly FanOutPodResult<T> GivenUp = new(null!, FanOutPodStatus.Cancelled, default, null, TimeSpan.Zero);

    private readonly IHeadlessService _service;
    private readonly Func<PodEndpoint, CancellationToken, ValueTask<T>> _operation;
    private readonly FanOutMode _mode;
    private readonly int _parallelism;
    private readonly TimeSpan? _perPodTimeout;
    private readonly ResiliencePipeline? _pipeline;
    private readonly bool _reportOutcomes;
    private readonly TimeProvider _time;
    private readonly EndpointSet _snapshot;
    private readonly long _startedAt;
    private readonly ImmutableArray<PodEndpoint> _targets;
    private readonly int _offset;
    private readonly FanOutPodResult<T>?[] _results;
    private readonly PodCall?[] _calls;
    private readonly ExecutionContext? _context;
    // The thread that settles a call (a pool thread or a timer) runs the coordinator on: one thread hop less per call.
    // The coordinator never runs an operation, so it never blocks that thread for long.
    private readonly Channel<int> _events = Channel.CreateUnbounded<int>(new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = true });
    private readonly CancellationTokenSource _stop = new();

    // Coordinator state: read and written by the coordinator loop only (one step at a time, possibly on different threads).
    private int _next, _inFlight, _succeeded, _failed;
    private ITimer? _hedge;

    // True until the coordinator first waits: until then it may be inside the caller's synchronous call, where it only
    // creates timers and queues calls (cheap), so the caller still gets its task back at once.
    private bool _onCallersStack = true;

    internal FanOutRun(IHeadlessService service, Func<PodEndpoint, CancellationToken, ValueTask<T>> operation, FanOutOptions options, TimeProvider time, EndpointSet snapshot, long startedAt)
    {
        _service = service;
        _operation = operation;
        // Read once: the options may be changed (or reused) while this fan-out runs.
        _mode = options.Mode;
        _parallelism = options.MaxParallelism;
        _perPodTimeout = options.PerPodTimeout;
        _pipeline = options.Pipeline;
        _reportOutcomes = options.ReportOutcomes;
        _time = time;
        _snapshot = snapshot;
        _startedAt = startedAt;
        _targets = options.IncludeUnhealthy ? snapshot.Endpoints : snapshot.Available;
        if (_mode.Kind == FanOutModeKind.FirstSuccess)
        {
            // Start hedged reads at a random pod so that many clients do not all lean on the first one (0 for 0 or 1 pod).
#pragma warning disable CA5394 // Load spreading, not security.
            _offset = (options.Random ?? Random.Shared).Next(_targets.Length);
#pragma warning restore CA5394
        }

        _results = new FanOutPodResult<T>?[_targets.Length];
        _calls = new PodCall?[_targets.Length];

        // Calls run on the thread pool under the caller's execution context (Activity.Current, logging scopes…).
        _context = ExecutionContext.Capture();
    }

    /// <summary>The pod called <paramref name="index"/>-th (targets rotated by the hedging offset).</summary>
    private PodEndpoint Target(int index) => _targets[(index + _offset) % _targets.Length];

    /// <summary>
    /// Runs the fan-out. Throws <see cref="OperationCanceledException"/> (with the caller's token) only when
    /// <paramref name="cancellationToken"/> is cancelled before the goal is decided, and <see cref="ObjectDisposedException"/>
    /// when <paramref name="stopping"/> (the service's disposal) comes first and the caller's token is not cancelled.
    /// </summary>
    internal async Task<FanOutResult<T>> RunAsync(TimeSpan? deadlineLeft, CancellationToken cancellationToken, CancellationToken stopping)
    {
        ITimer? deadline = deadlineLeft is { } d
            ? _time.CreateTimer(static s => ((Channel<int>)s!).Writer.TryWrite(DeadlineTick), _events, d, Timeout.InfiniteTimeSpan)
            : null;
        CancellationTokenRegistration callerRegistration = cancellationToken.UnsafeRegister(static s => ((Channel<int>)s!).Writer.TryWrite(CallerCancelled), _events);
        CancellationTokenRegistration stoppingRegistration = stopping.UnsafeRegister(static s => ((Channel<int>)s!).Writer.TryWrite(ServiceStopped), _events);
        try
        {
            int stop = await CoordinateAsync().ConfigureAwait(false);
            GiveUpOpenCalls();
            if (stop is CallerCancelled or ServiceStopped)
            {
                // The caller's cancellation wins over a disposal that raced with it: OperationCanceledException
                // means exactly "your token was cancelled".
                cancellationToken.ThrowIfCancellationRequested();
                ObjectDisposedException.ThrowIf(true, _service);
            }

            return Finish(_mode, _next, stop == DeadlineTick);
        }
        finally
        {
            await callerRegistration.DisposeAsync().ConfigureAwait(false);
            await stoppingRegistration.DisposeAsync().ConfigureAwait(false);
            if (deadline is not null)
            {
                await deadline.DisposeAsync().ConfigureAwait(false);
            }

            if (_hedge is not null)
            {
                await _hedge.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// The coordinator loop: starts calls and reacts to settled calls and ticks until the goal is decided or a stop
    /// arrives. Returns 0 when the goal was decided, else the stop (<see cref="DeadlineTick"/>,
    /// <see cref="CallerCancelled"/> or <see cref="ServiceStopped"/>).
    /// </summary>
    private async Task<int> CoordinateAsync()
    {
        if (_mode.Kind != FanOutModeKind.FirstSuccess)
        {
            Fill();
        }
        else if (_targets.Length > 0)
        {
            StartNext();
            ArmHedge();
        }

        while (!Decided())
        {
            ValueTask<int> read = _events.Reader.ReadAsync(CancellationToken.None);
            _onCallersStack &= read.IsCompleted;
            int message = await read.ConfigureAwait(false);
            switch (message)
            {
                case >= 0:
                    OnSettled(message);
                    break;
                case HedgeTick:
                    // The goal is still open (the loop checked it). With every slot taken, the next settled call
                    // starts the next pod and the delay; every pod started, nothing is left to hedge to.
                    if (_next < _targets.Length && _inFlight < _parallelism)
                    {
                        StartNext();
                        ArmHedge();
                    }

                    break;
                default:
                    return message;
            }
        }

        return 0;
    }

    /// <summary>A settled slot: the call finished, or its per-pod timer gave up on it.</summary>
    private void OnSettled(int index)
    {
        _inFlight--;
        if (_results[index]!.Succeeded)
        {
            _succeeded++;
        }
        else
        {
            _failed++;
        }

        if (_mode.Kind != FanOutModeKind.FirstSuccess)
        {
            Fill();
        }
        else if (!Decided() && _next < _targets.Length)
        {
            // A failure hedges at once (it just freed a slot); the delay starts over for the call just added.
            StartNext();
            ArmHedge();
        }
    }

    private void StartNext()
    {
        int index = _next++;
        _inFlight++;
        var call = new PodCall(this, index, Target(index), _time.GetTimestamp());
        _calls[index] = call;
        // Calls started on the caller's stack go to the global queue, never to the caller's thread. Later the
        // coordinator runs on the pool thread that settled a call: the next call goes to that thread's own
        // queue and runs there without waking another thread (idle threads steal it if this one stays busy).
        ThreadPool.UnsafeQueueUserWorkItem(call, preferLocal: !_onCallersStack && Thread.CurrentThread.IsThreadPoolThread);
    }

    /// <summary>(Re)starts the hedge delay for the call just started; with an infinite delay pods are added only after failures.</summary>
    private void ArmHedge()
    {
        if (_mode.HedgeDelay != Timeout.InfiniteTimeSpan)
        {
            _hedge ??= _time.CreateTimer(static s => ((Channel<int>)s!).Writer.TryWrite(HedgeTick), _events, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _hedge.Change(_mode.HedgeDelay, Timeout.InfiniteTimeSpan);
        }
    }

    private void Fill()
    {
        while (_inFlight < _parallelism && _next < _targets.Length && !Decided())
        {
            StartNext();
        }
    }

    /// <summary>
    /// Takes over every slot still open, then cancels those calls: from here on a late result is dropped. A call still
    /// waiting for a thread is withdrawn and never runs: its pod was not called.
    /// </summary>
    private void GiveUpOpenCalls()
    {
        bool running = false;
        for (int i = 0; i < _next; i++)
        {
            if (Interlocked.CompareExchange(ref _results[i], GivenUp, null) is null)
            {
                if (_calls[i]!.Abandon())
                {
                    _results[i] = Skipped(Target(i));
                }
                else
                {
                    running = true;
                }
            }
        }

        if (running && _perPodTimeout is null)
        {
            CancelQuietly(_stop);
        }
    }

    /// <summary>Whether the coordinator's running tallies decide the goal.</summary>
    private bool Decided() => Decided(_mode, _targets.Length, _succeeded, _failed);

    /// <summary>
    /// Whether the results so far settle the mode's goal: met, or out of reach (every target settled for
    /// <see cref="FanOutModeKind.All"/>). Adding results never undoes a decision.
    /// </summary>
    private static bool Decided(FanOutMode mode, int targets, int succeeded, int failed) => mode.Kind switch
    {
        FanOutModeKind.Quorum => succeeded >= mode.QuorumCount || targets - failed < mode.QuorumCount,
        FanOutModeKind.FirstSuccess => succeeded >= 1 || failed == targets,
        _ => succeeded + failed == targets,
    };

    private FanOutResult<T> Finish(FanOutMode mode, int started, bool deadlinePassed)
    {
        // Recount from the slots: calls may have settled after the coordinator's last read.
        int succeeded = 0, failed = 0;
        for (int i = 0; i < started; i++)
        {
            // Slots given up on (Cancelled) or withdrawn before their call ran (Skipped) count as neither.
            FanOutPodResult<T> result = _results[i]!;
            succeeded += result.Succeeded ? 1 : 0;
            failed += result.IsFailure ? 1 : 0;
        }

        // The deadline is exceeded only if it came before the settled calls decided the goal; calls the fan-out gave up
        // on are then timed out, otherwise they were merely no longer needed.
        bool deadlineExceeded = deadlinePassed && !Decided(mode, _targets.Length, succeeded, failed);
        FanOutPodStatus abandoned = deadlineExceeded ? FanOutPodStatus.TimedOut : FanOutPodStatus.Cancelled;
        for (int i = 0; i < started; i++)
        {
            if (ReferenceEquals(_results[i], GivenUp))
            {
                _results[i] = new FanOutPodResult<T>(Target(i), abandoned, default, null, _time.GetElapsedTime(_calls[i]!.StartedAt));
            }
        }

        return new FanOutResult<T>(_snapshot, mode, Collect(started), _targets.Length, deadlineExceeded, _time.GetElapsedTime(_startedAt));
    }

    /// <summary>One result per snapshot pod, in snapshot order.</summary>
    private ImmutableArray<FanOutPodResult<T>> Collect(int started)
    {
        // Targets are a subsequence of the snapshot in the same order (Available keeps the order of Endpoints), so
        // a single merge pass maps them without allocating a lookup.
        int n = _targets.Length;
        var results = ImmutableArray.CreateBuilder<FanOutPodResult<T>>(_snapshot.Count);
        int target = 0;
        foreach (PodEndpoint endpoint in _snapshot.Endpoints)
        {
            if (target < n && _targets[target].Equals(endpoint))
            {
                results.Add(ResultOf(target, started));
                target++;
            }
            else
            {
                results.Add(Skipped(endpoint));
            }
        }

        System.Diagnostics.Debug.Assert(target == n, "Available keeps the order of Endpoints (EndpointSet builds it from the aligned statuses).");
        return results.MoveToImmutable();
    }

    /// <summary>The result of the pod at <paramref name="target"/> in <see cref="_targets"/>.</summary>
    private FanOutPodResult<T> ResultOf(int target, int started)
    {
        // The position at which this pod was (or would have been) called, undoing the hedging rotation.
        int index = (target - _offset + _targets.Length) % _targets.Length;
        return index < started ? _results[index]! : Skipped(_targets[target]);
    }

    private static FanOutPodResult<T> Skipped(PodEndpoint endpoint) => new(endpoint, FanOutPodStatus.Skipped, default, null, TimeSpan.Zero);

    private static void CancelQuietly(CancellationTokenSource source)
    {
        try
        {
            source.Cancel();
        }
        catch (AggregateException)
        {
            // A cancellation callback registered by an abandoned call threw; that call's outcome is no longer ours to report.
        }
    }

    /// <summary>Settles slot <paramref name="index"/> with <paramref name="result"/> unless it is settled already.</summary>
    private bool TryClaim(int index, FanOutPodResult<T> result) => Interlocked.CompareExchange(ref _results[index], result, null) is null;

    /// <summary>Reports a slot this run's call or timer settled to passive health, then tells the coordinator.</summary>
    private void Publish(int index, FanOutPodResult<T> result)
    {
        if (_reportOutcomes)
        {
            try
            {
                _service.ReportOutcome(result.Endpoint, result.Succeeded, result.Latency);
            }
#pragma warning disable CA1031 // A failing outcome sink must not lose the result or hang the fan-out.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }

        _events.Writer.TryWrite(index);
    }
}
