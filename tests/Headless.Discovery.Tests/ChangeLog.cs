namespace Headless.Discovery.Tests;

/// <summary>What one <see cref="IHeadlessService.Changed"/> handler (or watcher) saw, with a signal to await a version.</summary>
internal sealed class ChangeLog
{
    private readonly object _lock = new();
    private readonly List<long> _seen = [];
    private readonly List<EndpointSetChange> _changes = [];
    private readonly List<(long Version, TaskCompletionSource Reached)> _waiters = [];

    public long[] Seen
    {
        get
        {
            lock (_lock)
            {
                return [.. _seen];
            }
        }
    }

    /// <summary>The changes recorded with <see cref="Record(EndpointSetChange)"/>, in delivery order.</summary>
    public EndpointSetChange[] Changes
    {
        get
        {
            lock (_lock)
            {
                return [.. _changes];
            }
        }
    }

    /// <summary>The last change recorded with <see cref="Record(EndpointSetChange)"/>.</summary>
    public EndpointSetChange Last => Changes[^1];

    /// <summary>A handler that records every change: <c>service.Changed += log.Handler;</c>.</summary>
    public void Handler(object? sender, EndpointSetChange change) => Record(change);

    public void Record(EndpointSetChange change)
    {
        lock (_lock)
        {
            _changes.Add(change);
        }

        Record(change.Current.Version);
    }

    public void Record(long version)
    {
        lock (_lock)
        {
            _seen.Add(version);
            for (int i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Version <= version)
                {
                    _waiters[i].Reached.TrySetResult();
                    _waiters.RemoveAt(i);
                }
            }
        }
    }

    /// <summary>Completes once a version at or above <paramref name="version"/> has been recorded.</summary>
    public Task WaitForAsync(long version)
    {
        lock (_lock)
        {
            if (_seen.Count > 0 && _seen.Max() >= version)
            {
                return Task.CompletedTask;
            }

            var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((version, reached));
            return reached.Task;
        }
    }

    /// <summary>Null when the versions strictly increase; otherwise the first inversion.</summary>
    public string? FirstInversion()
    {
        long[] seen = Seen;
        for (int i = 1; i < seen.Length; i++)
        {
            if (seen[i] <= seen[i - 1])
            {
                return $"saw v{seen[i]} after v{seen[i - 1]} (all: {string.Join(", ", seen)})";
            }
        }

        return null;
    }
}
