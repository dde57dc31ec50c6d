namespace Headless.Discovery.Testing;

/// <summary>Waits on the fake's snapshots (<see cref="WaitForEndpointsAsync"/> and the predicate waits).</summary>
public sealed partial class FakeHeadlessService
{
    private ValueTask<EndpointSet> WaitAsync(Func<EndpointSet, int, bool> done, int argument, CancellationToken cancellationToken)
    {
        FakeWaiter waiter;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (done(_current, argument))
            {
                return new ValueTask<EndpointSet>(_current);
            }

            waiter = new FakeWaiter(done, argument);
            _waiters.Add(waiter);
        }

        return new ValueTask<EndpointSet>(WaitForAsync(waiter, cancellationToken));
    }

    private async Task<EndpointSet> WaitForAsync(FakeWaiter waiter, CancellationToken cancellationToken)
    {
        try
        {
            return await waiter.Result.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            lock (_gate)
            {
                _waiters.Remove(waiter);
            }

            throw;
        }
    }
}
