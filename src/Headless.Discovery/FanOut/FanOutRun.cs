using System.Collections.Immutable;
using System.Threading.Channels;
using Polly;
using Polly.Timeout;

namespace Headless.Discovery;

/// <summary>
/// One fan-out: a single coordinator loop reads completions (and timer ticks) from a channel and decides what to start
/// next and when the mode's goal is met or out of reach. Pod calls publish their result with one compare-exchange, so a
/// call finishing while the coordinator gives up on it is counted exactly once.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "_stop is left undisposed on purpose: abandoned calls may still observe its token; it owns no timer.")]
internal sealed class FanOutRun<T>
{
    private const int HedgeTick = -1;
    private const int DeadlineTick = -2;
    private const int CallerCancelled = -3;

    private readonly IHeadlessService _service;
    private readonly Func<PodEndpoint, CancellationToken, ValueTask<T>> _operation;
    private readonly FanOutOptions _options;
    private readonly TimeProvider _time;
    private readonly EndpointSet _snapshot;
    private readonly long _startedAt;
    private readonly PodEndpoint[] _targets;
    private readonly FanOutPodResult<T>?[] _results;
    private readonly long[] _callStartedAt;
    private readonly Channel<int> _events = Channel.CreateUnbounded<int>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stop = new();

    internal FanOutRun(IHeadlessService service, Func<PodEndpoint, CancellationToken, ValueTask<T>> operation, FanOutOptions options, TimeProvider time, EndpointSet snapshot, long startedAt)
    {
        _service = service;
        _operation = operation;
        _options = options;
        _time = time;
        _snapshot = snapshot;
        _startedAt = startedAt;
        PodEndpoint[] targets = [.. options.IncludeUnhealthy ? snapshot.Endpoints : snapshot.Available];
        if (options.Mode.Kind == FanOutModeKind.FirstSuccess && targets.Length > 1)
        {
            // Start hedged reads at a random pod so that many clients do not all lean on the first one.
#pragma warning disable CA5394 // Load spreading, not security.
            int offset = Random.Shared.Next(targets.Length);
#pragma warning restore CA5394
            targets = [.. targets[offset..], .. targets[..offset]];
        }

        _targets = targets;
        _results = new FanOutPodResult<T>?[targets.Length];
        _callStartedAt = new long[targets.Length];
    }

    internal async Task<FanOutResult<T>> RunAsync(CancellationToken cancellationToken)
    {
        FanOutMode mode = _options.Mode;
        int n = _targets.Length;
        int parallelism = _options.MaxParallelism;
        int next = 0, inFlight = 0, succeeded = 0, failed = 0;
        bool deadlineExceeded = false;

        ITimer? deadline = _options.Deadline is { } d
            ? _time.CreateTimer(static s => ((Channel<int>)s!).Writer.TryWrite(DeadlineTick), _events, d, Timeout.InfiniteTimeSpan)
            : null;
        ITimer? hedge = mode.Kind == FanOutModeKind.FirstSuccess && mode.HedgeDelay != Timeout.InfiniteTimeSpan
            ? _time.CreateTimer(static s => ((Channel<int>)s!).Writer.TryWrite(HedgeTick), _events, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan)
            : null;
        CancellationTokenRegistration callerRegistration = cancellationToken.UnsafeRegister(static s => ((Channel<int>)s!).Writer.TryWrite(CallerCancelled), _events);
        try
        {
            void StartNext()
            {
                int index = next++;
                inFlight++;
                _callStartedAt[index] = _time.GetTimestamp();
                _ = CallAsync(index);
            }

            void Fill()
            {
                while (inFlight < parallelism && next < n && !Done())
                {
                    StartNext();
                }
            }

            bool Done() => mode.Kind switch
            {
                FanOutModeKind.Quorum => succeeded >= mode.QuorumCount || n - failed < mode.QuorumCount,
                FanOutModeKind.FirstSuccess => succeeded >= 1 || failed == n,
                _ => succeeded + failed == n,
            };

            if (mode.Kind == FanOutModeKind.FirstSuccess)
            {
                if (n > 0)
                {
                    StartNext();
                    hedge?.Change(mode.HedgeDelay, Timeout.InfiniteTimeSpan);
                }
            }
            else
            {
                Fill();
            }

            bool callerCancelled = false;
            while (!Done() && !callerCancelled && !deadlineExceeded)
            {
                int message = await _events.Reader.ReadAsync(CancellationToken.None).ConfigureAwait(false);
                switch (message)
                {
                    case >= 0:
                        inFlight--;
                        if (_results[message]!.IsSuccess)
                        {
                            succeeded++;
                        }
                        else
                        {
                            failed++;
                        }

                        if (mode.Kind != FanOutModeKind.FirstSuccess)
                        {
                            Fill();
                        }
                        else if (!Done() && next < n && inFlight < parallelism)
                        {
                            // A failure hedges at once; the delay starts over for the call just added.
                            StartNext();
                            hedge?.Change(mode.HedgeDelay, Timeout.InfiniteTimeSpan);
                        }

                        break;
                    case HedgeTick:
                        if (!Done() && next < n && inFlight < parallelism)
                        {
                            StartNext();
                        }

                        if (next < n)
                        {
                            hedge?.Change(mode.HedgeDelay, Timeout.InfiniteTimeSpan);
                        }

                        break;
                    case DeadlineTick:
                        deadlineExceeded = true;
                        break;
                    case CallerCancelled:
                        callerCancelled = true;
                        break;
                }
            }

            // Whatever is still running is no longer wanted.
            await _stop.CancelAsync().ConfigureAwait(false);
            FanOutPodStatus abandoned = deadlineExceeded && !callerCancelled ? FanOutPodStatus.TimedOut : FanOutPodStatus.Cancelled;
            for (int i = 0; i < next; i++)
            {
                if (Volatile.Read(ref _results[i]) is null)
                {
                    var gaveUp = new FanOutPodResult<T>(_targets[i], abandoned, default, null, _time.GetElapsedTime(_callStartedAt[i]));
                    Interlocked.CompareExchange(ref _results[i], gaveUp, null);
                }
            }

            cancellationToken.ThrowIfCancellationRequested();
            bool goalMet = mode.Kind switch
            {
                FanOutModeKind.Quorum => succeeded >= mode.QuorumCount,
                FanOutModeKind.FirstSuccess => succeeded >= 1,
                _ => n > 0 && succeeded == n,
            };
            return new FanOutResult<T>(_snapshot, mode, Collect(next), goalMet, deadlineExceeded, _time.GetElapsedTime(_startedAt));
        }
        finally
        {
            await callerRegistration.DisposeAsync().ConfigureAwait(false);
            if (deadline is not null)
            {
                await deadline.DisposeAsync().ConfigureAwait(false);
            }

            if (hedge is not null)
            {
                await hedge.DisposeAsync().ConfigureAwait(false);
            }

            // _stop is not disposed: abandoned calls may still hold its (cancelled) token; it owns no timer or registration.
        }
    }

    private ImmutableArray<FanOutPodResult<T>> Collect(int started)
    {
        var byEndpoint = new Dictionary<PodEndpoint, FanOutPodResult<T>>(_targets.Length);
        for (int i = 0; i < _targets.Length; i++)
        {
            byEndpoint[_targets[i]] = i < started ? Volatile.Read(ref _results[i])! : Skipped(_targets[i]);
        }

        var results = ImmutableArray.CreateBuilder<FanOutPodResult<T>>(_snapshot.Count);
        foreach (PodEndpoint endpoint in _snapshot.Endpoints)
        {
            results.Add(byEndpoint.GetValueOrDefault(endpoint) ?? Skipped(endpoint));
        }

        return results.MoveToImmutable();
    }

    private static FanOutPodResult<T> Skipped(PodEndpoint endpoint) => new(endpoint, FanOutPodStatus.Skipped, default, null, TimeSpan.Zero);

    private async Task CallAsync(int index)
    {
        PodEndpoint endpoint = _targets[index];
        long startedAt = _callStartedAt[index];
        CancellationTokenSource? timeout = null;
        CancellationTokenSource? linked = null;
        CancellationToken token = _stop.Token;
        if (_options.PerPodTimeout is { } perPod)
        {
            timeout = new CancellationTokenSource(perPod, _time);
            linked = CancellationTokenSource.CreateLinkedTokenSource(token, timeout.Token);
            token = linked.Token;
        }

        FanOutPodResult<T> result;
        try
        {
            T value = _options.Pipeline is { } pipeline
                ? await pipeline.ExecuteAsync(static (state, ct) => state.Operation(state.Endpoint, ct), (Operation: _operation, Endpoint: endpoint), token).ConfigureAwait(false)
                : await _operation(endpoint, token).ConfigureAwait(false);
            result = new FanOutPodResult<T>(endpoint, FanOutPodStatus.Succeeded, value, null, _time.GetElapsedTime(startedAt));
        }
#pragma warning disable CA1031 // A pod's failure of any kind is that pod's result, never the fan-out's exception.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            TimeSpan latency = _time.GetElapsedTime(startedAt);
            FanOutPodStatus status = _stop.IsCancellationRequested
                ? FanOutPodStatus.Cancelled
                : timeout?.IsCancellationRequested == true && ex is OperationCanceledException or TimeoutRejectedException
                    ? FanOutPodStatus.TimedOut
                    : FanOutPodStatus.Failed;
            result = new FanOutPodResult<T>(endpoint, status, default, ex, latency);
        }
        finally
        {
            linked?.Dispose();
            timeout?.Dispose();
        }

        if (Interlocked.CompareExchange(ref _results[index], result, null) is not null)
        {
            // The coordinator already gave up on this call.
            return;
        }

        if (_options.ReportOutcomes && result.Status is FanOutPodStatus.Succeeded or FanOutPodStatus.Failed or FanOutPodStatus.TimedOut)
        {
            _service.ReportOutcome(endpoint, new EndpointOutcome(result.IsSuccess, result.Latency));
        }

        _events.Writer.TryWrite(index);
    }
}
