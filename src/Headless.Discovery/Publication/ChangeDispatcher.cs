namespace Headless.Discovery;

/// <summary>
/// Delivers published changes to the <see cref="IHeadlessService.Changed"/> handlers outside every lock of the service:
/// one delivery at a time, in the order the changes were enqueued, on a thread-pool thread. The publisher enqueues under
/// its lock, so that order is version order; a change published by a handler is queued behind the one being delivered.
/// </summary>
/// <remarks>
/// Handlers never run on the thread that published (a refresh, a probe, an ejection timer or a
/// <see cref="IHeadlessService.ReportOutcome"/> caller), so they never hold up publication, and a handler may call back
/// into the service — report outcomes, refresh, dispose, even blocking — without deadlocking. Enqueueing allocates
/// nothing beyond the queue's growth: the dispatcher is its own thread-pool work item.
/// </remarks>
internal sealed class ChangeDispatcher : IThreadPoolWorkItem
{
    [ThreadStatic]
    private static ChangeDispatcher? t_delivering;

    private readonly Queue<EndpointSetChange> _pending = new();
    private readonly Action<EndpointSetChange> _deliver;
    private bool _scheduled;
    private bool _stopped;
    private TaskCompletionSource? _idle;

    /// <param name="deliver">Calls the handlers with one change; must not throw.</param>
    public ChangeDispatcher(Action<EndpointSetChange> deliver) => _deliver = deliver;

    /// <summary>Whether the calling thread is delivering a change of this dispatcher (it is inside a handler).</summary>
    public bool IsDelivering => ReferenceEquals(t_delivering, this);

    /// <summary>Queues <paramref name="change"/> for delivery after every change queued before it.</summary>
    public void Enqueue(EndpointSetChange change)
    {
        lock (_pending)
        {
            if (_stopped)
            {
                return;
            }

            _pending.Enqueue(change);
            if (_scheduled)
            {
                return;
            }

            _scheduled = true;
        }

        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    /// <summary>
    /// Starts no further delivery (queued changes are dropped) and completes when the delivery in progress, if any, has
    /// returned. Called from a handler (<paramref name="fromHandler"/>) it completes at once: waiting for its own
    /// delivery would never end.
    /// </summary>
    public Task StopAsync(bool fromHandler)
    {
        lock (_pending)
        {
            _stopped = true;
            if (!_scheduled || fromHandler)
            {
                return Task.CompletedTask;
            }

            _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _idle.Task;
        }
    }

    void IThreadPoolWorkItem.Execute()
    {
        t_delivering = this;
        try
        {
            while (true)
            {
                EndpointSetChange? change;
                lock (_pending)
                {
                    if (_stopped)
                    {
                        // Disposal began: the delivery that was in progress was the last one.
                        _pending.Clear();
                    }

                    if (!_pending.TryDequeue(out change))
                    {
                        _scheduled = false;
                        _idle?.TrySetResult();
                        return;
                    }
                }

                _deliver(change);
            }
        }
        finally
        {
            t_delivering = null;
        }
    }
}
