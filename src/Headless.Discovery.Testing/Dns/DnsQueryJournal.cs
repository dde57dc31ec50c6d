namespace Headless.Discovery.Testing;

/// <summary>
/// What the embedded server received: the queries (the first 100,000), counts per transport and record type, and the
/// tests waiting for queries. Recording and waiting are called under the server's lock (so a query is recorded in the
/// order its fault was taken); the totals are also readable without it.
/// </summary>
internal sealed class DnsQueryJournal(Lock gate)
{
    private const int MaxRecordedQueries = 100_000;

    private readonly List<DnsQueryInfo> _queries = [];
    private readonly List<QueryWaiter> _waiters = [];
    private readonly Dictionary<DnsRecordType, long> _byType = [];
    private long _total;
    private long _udp;
    private long _tcp;

    public long Total => Interlocked.Read(ref _total);

    public long Udp => Interlocked.Read(ref _udp);

    public long Tcp => Interlocked.Read(ref _tcp);

    /// <summary>A copy of the recorded queries, oldest first. Under the server's lock.</summary>
    public IReadOnlyList<DnsQueryInfo> Snapshot() => [.. _queries];

    /// <summary>Queries for <paramref name="type"/>. Under the server's lock.</summary>
    public long CountOf(DnsRecordType type) => _byType.GetValueOrDefault(type);

    /// <summary>Records a query and completes the waits it satisfies. Under the server's lock.</summary>
    public void Record(DnsQueryInfo info)
    {
        Interlocked.Increment(ref _total);
        Interlocked.Increment(ref info.Transport == DnsTransport.Udp ? ref _udp : ref _tcp);
        _byType[info.Type] = _byType.GetValueOrDefault(info.Type) + 1;
        if (_queries.Count < MaxRecordedQueries)
        {
            _queries.Add(info);
        }

        // Waiters complete asynchronously (RunContinuationsAsynchronously), so completing them under the lock is safe.
        for (var i = _waiters.Count - 1; i >= 0; i--)
        {
            if (_waiters[i].Offer(info))
            {
                _waiters.RemoveAt(i);
            }
        }
    }

    /// <summary>Sets every count to zero and forgets the queries (pending waits keep waiting). Under the server's lock.</summary>
    public void Reset()
    {
        _queries.Clear();
        _byType.Clear();
        Interlocked.Exchange(ref _total, 0);
        Interlocked.Exchange(ref _udp, 0);
        Interlocked.Exchange(ref _tcp, 0);
    }

    /// <summary>
    /// A wait for <paramref name="count"/> queries matching <paramref name="predicate"/>, counting those already recorded;
    /// completed at once when they are, pending (and returned by <see cref="RemoveAllWaiters"/>) otherwise. Under the server's lock.
    /// </summary>
    public QueryWaiter AddWaiter(int count, Func<DnsQueryInfo, bool> predicate)
    {
        var waiter = new QueryWaiter(count, predicate);
        foreach (var query in _queries)
        {
            if (waiter.Offer(query))
            {
                return waiter;
            }
        }

        _waiters.Add(waiter);
        return waiter;
    }

    /// <summary>The wait's task, which forgets the wait when <paramref name="cancellationToken"/> cancels it. Outside the lock.</summary>
    public Task<IReadOnlyList<DnsQueryInfo>> WaitAsync(QueryWaiter waiter, CancellationToken cancellationToken) =>
        waiter.Completion.Task.IsCompleted || !cancellationToken.CanBeCanceled
            ? waiter.Completion.Task
            : WaitWithCancellationAsync(waiter, cancellationToken);

    private async Task<IReadOnlyList<DnsQueryInfo>> WaitWithCancellationAsync(QueryWaiter waiter, CancellationToken cancellationToken)
    {
        try
        {
            return await waiter.Completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            lock (gate)
            {
                _waiters.Remove(waiter);
            }

            throw;
        }
    }

    /// <summary>Takes every pending wait (to fail them on disposal). Under the server's lock.</summary>
    public QueryWaiter[] RemoveAllWaiters()
    {
        QueryWaiter[] waiters = [.. _waiters];
        _waiters.Clear();
        return waiters;
    }

    /// <summary>One test waiting for queries.</summary>
    internal sealed class QueryWaiter(int count, Func<DnsQueryInfo, bool> predicate)
    {
        private readonly List<DnsQueryInfo> _matches = [];

        public TaskCompletionSource<IReadOnlyList<DnsQueryInfo>> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        // Returns true when the waiter is done (completed or faulted by its predicate).
        public bool Offer(DnsQueryInfo info)
        {
            try
            {
                if (predicate(info))
                {
                    _matches.Add(info);
                }
            }
#pragma warning disable CA1031 // A throwing user predicate fails its own wait, never the DNS server.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Completion.TrySetException(ex);
                return true;
            }

            if (_matches.Count >= count)
            {
                Completion.TrySetResult([.. _matches]);
                return true;
            }

            return false;
        }
    }
}
