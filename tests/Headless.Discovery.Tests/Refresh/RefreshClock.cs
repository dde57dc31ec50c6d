using Microsoft.Extensions.Time.Testing;

namespace Headless.Discovery.Tests.Refresh;

/// <summary>
/// A fake clock that also shows when the service arms its refresh timer (the one created disarmed), and for how long:
/// arming the timer for the next round is a round's last act, so it tells a test both the delay the schedule chose and
/// that the round is over.
/// </summary>
internal sealed class RefreshClock : FakeTimeProvider
{
    private readonly object _lock = new();
    private TaskCompletionSource<TimeSpan> _next = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TimeSpan _lastArmed = Timeout.InfiniteTimeSpan;

    public RefreshClock()
        : base(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero))
    {
    }

    /// <summary>The delay the refresh timer was last armed with (infinite before the first round ends).</summary>
    public TimeSpan LastArmed
    {
        get
        {
            lock (_lock)
            {
                return _lastArmed;
            }
        }
    }

    /// <summary>Completes with the delay of the next arming of the refresh timer (take it before causing the round).</summary>
    public Task<TimeSpan> NextArmed()
    {
        lock (_lock)
        {
            return _next.Task;
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ITimer timer = base.CreateTimer(callback, state, dueTime, period);
        return dueTime == Timeout.InfiniteTimeSpan ? new Watched(timer, this) : timer;
    }

    private void Armed(TimeSpan due)
    {
        TaskCompletionSource<TimeSpan> armed;
        lock (_lock)
        {
            _lastArmed = due;
            armed = _next;
            _next = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        armed.TrySetResult(due);
    }

    private sealed class Watched(ITimer inner, RefreshClock clock) : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            bool changed = inner.Change(dueTime, period);
            if (dueTime != Timeout.InfiniteTimeSpan)
            {
                clock.Armed(dueTime);
            }

            return changed;
        }

        public void Dispose() => inner.Dispose();

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}

/// <summary>A <see cref="Random"/> whose samples are a settable constant: edges of the jitter ranges, exactly.</summary>
internal sealed class ConstantRandom(double value) : Random
{
    public double Value { get; set; } = value;

    public override double NextDouble() => Value;

    protected override double Sample() => Value;
}
