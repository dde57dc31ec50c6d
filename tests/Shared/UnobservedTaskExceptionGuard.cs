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

    internal static void OnUnobserved(object? sender, UnobservedTaskExceptionEventArgs e)
    {
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
