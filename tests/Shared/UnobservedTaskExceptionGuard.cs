using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace Headless.Discovery.TestSupport;

/// <summary>
/// Watches <see cref="TaskScheduler.UnobservedTaskException"/> for the whole test run. A faulted task nobody awaited is
/// a bug in a library that runs background loops; when one is seen the test process ends with a non-zero exit code
/// and the exception on stderr, so the run fails whichever test caused it.
/// </summary>
internal static class UnobservedTaskExceptionGuard
{
    private static readonly ConcurrentQueue<Exception> Seen = new();

    /// <summary>Exceptions seen so far.</summary>
    public static IReadOnlyCollection<Exception> Exceptions => Seen;

    /// <summary>When false (only in the guard's own test), exceptions are recorded but do not end the process.</summary>
    public static bool FailFast { get; set; } = true;

    [ModuleInitializer]
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2255", Justification = "Must run before any test.")]
    internal static void Install() => TaskScheduler.UnobservedTaskException += OnUnobserved;

    /// <summary>Cancelled socket receives that DnsClient abandoned (see <see cref="IsAbandonedSocketCancellation"/>).</summary>
    public static int AbandonedSocketCancellations => _abandoned;

    private static int _abandoned;

    /// <summary>
    /// DnsClient 1.8 races each query against its cancellation token with <c>Task.WhenAny</c> and abandons the socket
    /// receive when the token wins (our per-attempt timeout or the caller's token). The receive then ends with an
    /// <see cref="OperationCanceledException"/> nobody awaits. That is a cancellation, not a lost error, and it is
    /// inside DnsClient, so it is counted, not failed on. Anything else fails the run.
    /// </summary>
    internal static bool IsAbandonedSocketCancellation(AggregateException exception) =>
        exception.InnerExceptions.Count > 0
        && exception.InnerExceptions.All(inner =>
            inner is OperationCanceledException
            && inner.StackTrace is { } trace
            && trace.Contains("System.Net.Sockets.Socket", StringComparison.Ordinal));

    private static readonly ConcurrentDictionary<UnobservedTaskExceptionRecorder, byte> Recorders = new();

    /// <summary>
    /// Records, instead of failing the run, the unobserved exceptions that <paramref name="claims"/> accepts (every inner
    /// exception must be accepted) until the returned recorder is disposed, so a test can assert that none was raised.
    /// Claim only what your own test can raise (an exception type of its own), as tests run in parallel.
    /// </summary>
    public static UnobservedTaskExceptionRecorder Record(Func<Exception, bool> claims)
    {
        var recorder = new UnobservedTaskExceptionRecorder(claims, r => Recorders.TryRemove(r, out _));
        Recorders[recorder] = 0;
        return recorder;
    }

    internal static void OnUnobserved(object? sender, UnobservedTaskExceptionEventArgs e)
    {
        foreach (UnobservedTaskExceptionRecorder recorder in Recorders.Keys)
        {
            if (recorder.TryClaim(e.Exception))
            {
                e.SetObserved();
                return;
            }
        }

        if (IsAbandonedSocketCancellation(e.Exception))
        {
            Interlocked.Increment(ref _abandoned);
            e.SetObserved();
            return;
        }

        Seen.Enqueue(e.Exception);
        if (FailFast)
        {
            string message = $"UNOBSERVED TASK EXCEPTION (failing the test run): {e.Exception}";
            Console.Error.WriteLine(message);
            Environment.FailFast(message);
        }
    }
}

/// <summary>
/// Unobserved task exceptions claimed by one test (see <see cref="UnobservedTaskExceptionGuard.Record"/>). The runtime
/// reports an unobserved exception only when the garbage collector finalizes the faulted task, so a test drops its
/// references and calls <see cref="CollectGarbage"/> before it reads <see cref="Exceptions"/>.
/// </summary>
internal sealed class UnobservedTaskExceptionRecorder : IDisposable
{
    private readonly Func<Exception, bool> _claims;
    private readonly Action<UnobservedTaskExceptionRecorder> _onDispose;
    private readonly ConcurrentQueue<Exception> _seen = new();

    internal UnobservedTaskExceptionRecorder(Func<Exception, bool> claims, Action<UnobservedTaskExceptionRecorder> onDispose)
    {
        _claims = claims;
        _onDispose = onDispose;
    }

    /// <summary>The claimed exceptions (each inner exception of the runtime's <see cref="AggregateException"/>).</summary>
    public IReadOnlyCollection<Exception> Exceptions => _seen;

    /// <summary>Finalizes every unreachable task now, so its unobserved exception (if any) is reported before this returns.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void CollectGarbage()
    {
        for (int i = 0; i < 2; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
    }

    internal bool TryClaim(AggregateException exception)
    {
        if (exception.InnerExceptions.Count == 0 || !exception.InnerExceptions.All(_claims))
        {
            return false;
        }

        foreach (Exception inner in exception.InnerExceptions)
        {
            _seen.Enqueue(inner);
        }

        return true;
    }

    public void Dispose() => _onDispose(this);
}
