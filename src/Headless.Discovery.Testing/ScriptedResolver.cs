using System.Collections.Concurrent;

namespace Headless.Discovery.Testing;

/// <summary>
/// An <see cref="IEndpointResolver"/> for tests of code that uses a <see cref="HeadlessService"/>: each resolution round
/// answers the next queued result (or throws the next queued exception), then <see cref="Fallback"/> once the queue is
/// empty. It counts rounds and can hold them until released, so a test decides exactly what every round sees.
/// </summary>
/// <remarks>
/// Pass it to <see cref="HeadlessService(ServiceName, IEndpointResolver, HeadlessServiceOptions, TimeProvider?, Microsoft.Extensions.Logging.ILoggerFactory?, Random?)"/>
/// together with a fake clock. Thread-safe. A round with nothing queued and no block answers <see cref="Fallback"/>
/// synchronously, without a lock or an allocation, so benchmarks can use it as a free resolver.
/// </remarks>
public sealed class ScriptedResolver : IEndpointResolver
{
    private readonly ConcurrentQueue<Func<ResolutionResult>> _script = new();
    private volatile TaskCompletionSource? _block;
    private volatile TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _calls;
    private int _queued;

    /// <summary>Creates a resolver whose rounds answer <paramref name="fallback"/> until something is queued.</summary>
    /// <param name="fallback">The answer when the queue is empty.</param>
    /// <exception cref="ArgumentNullException"><paramref name="fallback"/> is <see langword="null"/>.</exception>
    public ScriptedResolver(ResolutionResult fallback)
    {
        ArgumentNullException.ThrowIfNull(fallback);
        Fallback = fallback;
    }

    /// <summary>Creates a resolver whose rounds answer <paramref name="endpoints"/> with a TTL of 5 seconds.</summary>
    /// <param name="endpoints">The pods every round returns until something else is queued or set.</param>
    public ScriptedResolver(IEnumerable<PodEndpoint> endpoints)
        : this(ResolutionResult.Success(endpoints, TimeSpan.FromSeconds(5)))
    {
    }

    /// <summary>The answer of a round when nothing is queued; settable at any time.</summary>
    public ResolutionResult Fallback
    {
        get => Volatile.Read(ref field);
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            Volatile.Write(ref field, value);
        }
    }

    /// <summary>How many rounds have started.</summary>
    public int Calls => Volatile.Read(ref _calls);

    /// <summary>Completes once a round has reached a <see cref="Block"/> (reset by each <see cref="Block"/>).</summary>
    public Task Entered => _entered.Task;

    /// <summary>Queues answers for the next rounds, in order.</summary>
    /// <param name="results">One answer per round.</param>
    public void Enqueue(params ResolutionResult[] results)
    {
        ArgumentNullException.ThrowIfNull(results);
        foreach (ResolutionResult result in results)
        {
            _script.Enqueue(() => result);
            Interlocked.Increment(ref _queued);
        }
    }

    /// <summary>Queues a round that throws <paramref name="exception"/> (a resolver that fails unexpectedly).</summary>
    /// <param name="exception">What the round throws.</param>
    public void EnqueueThrow(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        _script.Enqueue(() => throw exception);
        Interlocked.Increment(ref _queued);
    }

    /// <summary>Makes the next rounds wait at their start until <see cref="Release"/> or their cancellation.</summary>
    public void Block()
    {
        _entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _block = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Lets the rounds held by <see cref="Block"/> go on.</summary>
    public void Release() => _block?.TrySetResult();

    /// <inheritdoc/>
    public ValueTask<ResolutionResult> ResolveAsync(ServiceName service, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _calls);
        if (_block is null && Volatile.Read(ref _queued) == 0)
        {
            // The fallback round: no queue access, no state machine, no allocation.
            return cancellationToken.IsCancellationRequested
                ? ValueTask.FromCanceled<ResolutionResult>(cancellationToken)
                : new ValueTask<ResolutionResult>(Fallback);
        }

        return ResolveScriptedAsync(cancellationToken);
    }

    private async ValueTask<ResolutionResult> ResolveScriptedAsync(CancellationToken cancellationToken)
    {
        TaskCompletionSource? block = _block;
        if (block is not null)
        {
            _entered.TrySetResult();
            await block.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            _block = null;
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (_script.TryDequeue(out Func<ResolutionResult>? next))
        {
            Interlocked.Decrement(ref _queued);
            return next();
        }

        return Fallback;
    }
}
