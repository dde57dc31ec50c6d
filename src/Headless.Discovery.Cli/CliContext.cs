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

    public TextWriter Stdout { get; }

    public TextWriter Stderr { get; }

    public CliServices Services { get; }

    public async ValueTask WriteLineAsync(string line)
    {
        await Stdout.WriteLineAsync(line).ConfigureAwait(false);
        await Stdout.FlushAsync().ConfigureAwait(false);
    }

    public async ValueTask ErrorLineAsync(string message)
    {
        await Stderr.WriteLineAsync($"{CliApp.ToolName}: {message}").ConfigureAwait(false);
        await Stderr.FlushAsync().ConfigureAwait(false);
    }
}
