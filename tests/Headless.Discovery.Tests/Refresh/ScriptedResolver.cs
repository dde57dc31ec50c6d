using System.Collections.Concurrent;
using System.Net;
using Headless.Discovery;

namespace Headless.Discovery.Tests.Refresh;

/// <summary>A hand-written resolver double: answers from a script, counts calls, can block until released.</summary>
internal sealed class ScriptedResolver : IEndpointResolver
{
    private readonly ConcurrentQueue<Func<ResolutionResult>> _script = new();
    private volatile TaskCompletionSource? _block;
    private int _calls;

    public ScriptedResolver(ResolutionResult? fallback = null) => Fallback = fallback ?? Ok(5, 1, 2, 3);

    /// <summary>Answer used when the script is empty.</summary>
    public ResolutionResult Fallback { get; set; }

    public int Calls => Volatile.Read(ref _calls);

    public TaskCompletionSource<bool> Entered { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Enqueue(params ResolutionResult[] results)
    {
        foreach (ResolutionResult r in results)
        {
            _script.Enqueue(() => r);
        }
    }

    public void EnqueueThrow(Exception ex) => _script.Enqueue(() => throw ex);

    /// <summary>Makes the next calls wait until <see cref="Release"/> (or cancellation).</summary>
    public void Block()
    {
        _block = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Entered = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public void Release() => _block?.TrySetResult();

    public async ValueTask<ResolutionResult> ResolveAsync(ServiceName service, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _calls);
        TaskCompletionSource? block = _block;
        if (block is not null)
        {
            Entered.TrySetResult(true);
            await block.Task.WaitAsync(cancellationToken);
            _block = null;
        }

        cancellationToken.ThrowIfCancellationRequested();
        return _script.TryDequeue(out Func<ResolutionResult>? next) ? next() : Fallback;
    }

    public static PodEndpoint Pod(int last, int port = 80) => new(IPAddress.Parse($"10.0.0.{last}"), port);

    public static ResolutionResult Ok(int ttlSeconds, params int[] lastOctets) =>
        ResolutionResult.Success(lastOctets.Select(i => Pod(i)), TimeSpan.FromSeconds(ttlSeconds));

    public static ResolutionResult Fail(string message = "timed out") => ResolutionResult.Failed(new TimeoutException(message));
}
