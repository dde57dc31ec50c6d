namespace Headless.Discovery;

/// <content>One pod's call.</content>
internal sealed partial class FanOutRun<T>
{
    /// <summary>One pod's call: queued to the thread pool, bounded by its per-pod timer, awaited to its end.</summary>
    private sealed class PodCall : IThreadPoolWorkItem
    {
        private const int Queued = 0, Running = 1, Withdrawn = 2;

        private readonly FanOutRun<T> _run;
        private readonly int _index;
        private readonly PodEndpoint _endpoint;
        private readonly CancellationTokenSource? _source;
        private readonly ITimer? _timer;

        // Queued until the call takes a thread and runs (Running) or the coordinator withdraws it first (Withdrawn):
        // exactly one of the two wins, so a pod whose operation never ran is never reported as cancelled.
        private int _state;

        internal PodCall(FanOutRun<T> run, int index, PodEndpoint endpoint, long startedAt)
        {
            _run = run;
            _index = index;
            _endpoint = endpoint;
            StartedAt = startedAt;
            if (run._perPodTimeout is { } timeout)
            {
                // Started before the call is queued, so the timeout holds even if the call never gets a thread.
                _source = new CancellationTokenSource();
                _timer = run._time.CreateTimer(static s => ((PodCall)s!).OnTimeout(), this, timeout, Timeout.InfiniteTimeSpan);
            }
        }

        internal long StartedAt { get; }

        public void Execute()
        {
            if (_run._context is { } context)
            {
                ExecutionContext.Run(context, static s => ((PodCall)s!).Call(), this);
            }
            else
            {
                Call();
            }
        }

        private void Call()
        {
            if (Volatile.Read(ref _run._results[_index]) is not null || Interlocked.CompareExchange(ref _state, Running, Queued) != Queued)
            {
                // Timed out or given up before it got a thread: do not start work nobody waits for.
                return;
            }

            CancellationToken token = _source?.Token ?? _run._stop.Token;
            ValueTask<T> call;
            try
            {
                call = _run._pipeline is { } pipeline
                    ? pipeline.ExecuteAsync(static (state, ct) => state.Operation(state.Endpoint, ct), (Operation: _run._operation, Endpoint: _endpoint), token)
                    : _run._operation(_endpoint, token);
            }
#pragma warning disable CA1031 // A pod's failure of any kind is that pod's result, never the fan-out's exception.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Finished(default, ex);
                return;
            }

            if (call.IsCompletedSuccessfully)
            {
                Finished(call.Result, null);
            }
            else
            {
                _ = AwaitAsync(call);
            }
        }

        // Awaits the call to its end even after a timeout, so its exception is always observed. Never throws.
        private async Task AwaitAsync(ValueTask<T> call)
        {
            T? value = default;
            Exception? error = null;
            try
            {
                value = await call.ConfigureAwait(false);
            }
#pragma warning disable CA1031 // A pod's failure of any kind is that pod's result, never the fan-out's exception.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                error = ex;
            }

            Finished(value, error);
        }

        private void Finished(T? value, Exception? error)
        {
            TimeSpan latency = _run._time.GetElapsedTime(StartedAt);
            FanOutPodStatus status = error is null ? FanOutPodStatus.Succeeded : FanOutPodStatus.Failed;
            if (latency >= _run._perPodTimeout)
            {
                // Finished after its timeout but before the (late) timer: by the clock it timed out.
                status = FanOutPodStatus.TimedOut;
            }

            var result = new FanOutPodResult<T>(_endpoint, status, status == FanOutPodStatus.Succeeded ? value : default, error, latency);
            if (_run.TryClaim(_index, result))
            {
                _timer?.Dispose();
                _run.Publish(_index, result);
            }
        }

        private void OnTimeout()
        {
            var timedOut = new FanOutPodResult<T>(_endpoint, FanOutPodStatus.TimedOut, default, null, _run._time.GetElapsedTime(StartedAt));

            // Settle first, then cancel: the call cannot turn the timeout into its own failure, and its token is
            // cancelled before the coordinator hands its slot to another pod.
            if (!_run.TryClaim(_index, timedOut))
            {
                return;
            }

            // Null only if the timer fired before its constructor returned; a fired one-shot timer holds nothing.
            _timer?.Dispose();
            CancelQuietly(_source!);
            _run.Publish(_index, timedOut);
        }

        /// <summary>
        /// The coordinator took this call's slot over: stop its timer and cancel its token. Returns whether the call was
        /// withdrawn before it ran (its operation will never be invoked).
        /// </summary>
        internal bool Abandon()
        {
            _timer?.Dispose();
            if (_source is not null)
            {
                CancelQuietly(_source);
            }

            return Interlocked.CompareExchange(ref _state, Withdrawn, Queued) == Queued;
        }
    }
}
