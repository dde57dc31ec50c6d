using System.Collections.Concurrent;

namespace Headless.Discovery.TestSupport;

/// <summary>
/// The synchronization context of a thread that never gets round to posted work: a UI thread blocked on
/// <c>.Result</c>, or a test framework's worker busy with another test. Work posted to it is held until
/// <see cref="Release"/>, which runs it on the thread pool (so whatever waited on it can end).
/// </summary>
internal sealed class HeldSynchronizationContext : SynchronizationContext
{
    private readonly ConcurrentQueue<(SendOrPostCallback Callback, object? State)> _held = new();
    private bool _released;

    /// <summary>How many callbacks were posted to this context.</summary>
    public int Posted { get; private set; }

    /// <summary>Runs <paramref name="action"/> on the calling thread with this context current, as code on such a thread would.</summary>
    public T Run<T>(Func<T> action)
    {
        SynchronizationContext? previous = Current;
        SetSynchronizationContext(this);
        try
        {
            return action();
        }
        finally
        {
            SetSynchronizationContext(previous);
        }
    }

    public override void Post(SendOrPostCallback d, object? state)
    {
        lock (_held)
        {
            Posted++;
            if (!_released)
            {
                _held.Enqueue((d, state));
                return;
            }
        }

        ThreadPool.QueueUserWorkItem(_ => d(state));
    }

    public override void Send(SendOrPostCallback d, object? state) =>
        throw new InvalidOperationException("The thread of this context is busy.");

    /// <summary>Runs the held work on the thread pool, and any posted later.</summary>
    public void Release()
    {
        lock (_held)
        {
            _released = true;
        }

        while (_held.TryDequeue(out var work))
        {
            ThreadPool.QueueUserWorkItem(_ => work.Callback(work.State));
        }
    }
}
