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

    private readonly object _writeGate = new();

    public TextWriter Stdout { get; }

    public TextWriter Stderr { get; }

    public CliServices Services { get; }

    public ValueTask WriteLineAsync(string line) => WriteAsync(Stdout, line);

    public ValueTask ErrorLineAsync(string message) => WriteAsync(Stderr, $"{CliApp.ToolName}: {message}");

    /// <summary>Writes a line to stderr as is (the demo's narrative when stdout carries JSON).</summary>
    public ValueTask InfoLineAsync(string line) => WriteAsync(Stderr, line);

    private ValueTask WriteAsync(TextWriter writer, string line)
    {
        // The demo writes from its script and its watcher at once: whole lines only, never interleaved.
        // Synchronous on purpose: a line to a console or a pipe is quick, and a lock cannot be held across awaits.
        lock (_writeGate)
        {
            writer.WriteLine(line);
            writer.Flush();
        }

        return ValueTask.CompletedTask;
    }
}
