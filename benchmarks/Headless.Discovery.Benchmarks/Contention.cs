namespace Headless.Discovery.Benchmarks;

/// <summary>
/// A background thread that runs one operation in a tight loop until disposed, so a benchmark measures its own
/// operation while another core hammers the same shared state (a 2-thread contended pick).
/// </summary>
internal sealed class Contention : IDisposable
{
    private readonly Thread _thread;
    private volatile bool _stop;
    private long _operations;

    public Contention(Action operation)
    {
        using var started = new ManualResetEventSlim();
        _thread = new Thread(() =>
        {
            started.Set();
            long n = 0;
            while (!_stop)
            {
                // Unrolled so the stop check is not what the other thread mostly does.
                operation();
                operation();
                operation();
                operation();
                n += 4;
            }

            Interlocked.Exchange(ref _operations, n);
        })
        {
            IsBackground = true,
            Name = "contention",
        };
        _thread.Start();
        started.Wait();
    }

    /// <summary>How many operations the background thread ran (valid after <see cref="Dispose"/>).</summary>
    public long Operations => Interlocked.Read(ref _operations);

    public void Dispose()
    {
        _stop = true;
        _thread.Join();
    }
}
