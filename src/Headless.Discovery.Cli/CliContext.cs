namespace Headless.Discovery.Cli;

/// <summary>What a command writes to and builds on. Every line written is flushed at once (scripts read line by line).</summary>
internal sealed class CliContext
{
    public CliContext(TextWriter stdout, TextWriter stderr, CliServices services)
    {
        Stdout = stdout;
        Stderr = stderr;
        Services = services;
    }

    private readonly SemaphoreSlim _writeGate = new(1, 1);

    public TextWriter Stdout { get; }

    public TextWriter Stderr { get; }

    public CliServices Services { get; }

    public ValueTask WriteLineAsync(string line) => WriteAsync(Stdout, line);

    public ValueTask ErrorLineAsync(string message) => WriteAsync(Stderr, $"{CliApp.ToolName}: {message}");

    /// <summary>Writes a line to stderr as is (the demo's narrative when stdout carries JSON).</summary>
    public ValueTask InfoLineAsync(string line) => WriteAsync(Stderr, line);

    private async ValueTask WriteAsync(TextWriter writer, string line)
    {
        // The demo writes from its script and its watcher at once: whole lines only, never interleaved.
        await _writeGate.WaitAsync().ConfigureAwait(false);
        try
        {
            await writer.WriteLineAsync(line).ConfigureAwait(false);
            await writer.FlushAsync().ConfigureAwait(false);
        }
        finally
        {
            _writeGate.Release();
        }
    }
}
