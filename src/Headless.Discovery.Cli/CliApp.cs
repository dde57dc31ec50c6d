using System.CommandLine;

namespace Headless.Discovery.Cli;

/// <summary>
/// The whole command line, runnable in-process: parse <c>args</c>, run the command, return the exit code.
/// <see cref="Program"/> wires it to the console and to Ctrl+C / SIGTERM.
/// </summary>
internal static class CliApp
{
    public const string ToolName = "headless-discovery";

    /// <summary>Runs the CLI with the real DNS resolver and live service.</summary>
    /// <param name="args">The command-line arguments (without the program name).</param>
    /// <param name="stdout">Where results go (JSON with <c>--json</c>).</param>
    /// <param name="stderr">Where errors and diagnostics go.</param>
    /// <param name="cancellationToken">Ctrl+C / SIGTERM: <c>watch</c> and <c>demo</c> end cleanly with exit 0.</param>
    /// <returns>The exit code (see <see cref="ExitCodes"/>).</returns>
    public static Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken) =>
        RunAsync(args, stdout, stderr, CliServices.Default, cancellationToken);

    /// <summary>Runs the CLI on the given <paramref name="services"/>.</summary>
    internal static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CliServices services, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        ArgumentNullException.ThrowIfNull(services);

        var context = new CliContext(stdout, stderr, services);
        RootCommand root = CreateRootCommand(context);

        // No command at all: the help, not "Required command was not provided."
        ParseResult parseResult = root.Parse(args.Length == 0 ? ["--help"] : args);
        if (args.Length > 0 && !args[0].StartsWith('-') && root.Subcommands.All(c => c.Name != args[0]))
        {
            return await UnknownCommandAsync(context, root, args[0]).ConfigureAwait(false);
        }

        if (parseResult.Errors.Count > 0)
        {
            return await ParseErrorsAsync(context, parseResult).ConfigureAwait(false);
        }

        var invocation = new InvocationConfiguration
        {
            Output = stdout,
            Error = stderr,

            // Program owns Ctrl+C / SIGTERM (and in-process callers own their token).
            ProcessTerminationTimeout = null,
            EnableDefaultExceptionHandler = false,
        };

        try
        {
            return await parseResult.InvokeAsync(invocation, cancellationToken).ConfigureAwait(false);
        }
        catch (UsageException ex)
        {
            // Invalid options are listed all at once, one per line.
            foreach (string line in ex.Message.Split(Environment.NewLine))
            {
                await context.ErrorLineAsync(line).ConfigureAwait(false);
            }

            return ExitCodes.Usage;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl+C or SIGTERM during a one-shot command: an orderly end, not a failure.
            return ExitCodes.Ok;
        }
#pragma warning disable CA1031 // The CLI's last line of defence: report, never crash with a stack trace.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            await context.ErrorLineAsync($"error: {ex.Message}").ConfigureAwait(false);
            return ExitCodes.Error;
        }
    }

    internal static RootCommand CreateRootCommand(CliContext context)
    {
        var root = new RootCommand(
            "Client-side service discovery for Kubernetes headless Services: resolve, watch and probe the pods behind a headless Service through DNS.");
        root.Subcommands.Add(ResolveCommand.Create(context));
        root.Subcommands.Add(WatchCommand.Create(context));
        root.Subcommands.Add(FanOutCommand.Create(context));
        root.Subcommands.Add(ProbeCommand.Create(context));
        root.Subcommands.Add(DemoCommand.Create(context));
        return root;
    }

    private static async Task<int> ParseErrorsAsync(CliContext context, ParseResult parseResult)
    {
        foreach (System.CommandLine.Parsing.ParseError error in parseResult.Errors)
        {
            await context.ErrorLineAsync(error.Message).ConfigureAwait(false);
        }

        string command = parseResult.CommandResult.Command is RootCommand ? string.Empty : " " + parseResult.CommandResult.Command.Name;
        await context.ErrorLineAsync($"Run '{ToolName}{command} --help' for usage.").ConfigureAwait(false);
        return ExitCodes.Usage;
    }

    /// <summary>A mistyped command: one line that says so and what was meant, not one per unrecognized token.</summary>
    private static async Task<int> UnknownCommandAsync(CliContext context, RootCommand root, string typed)
    {
        string[] names = [.. root.Subcommands.Select(c => c.Name)];
        string? meant = EditDistance.Closest(typed, names);
        await context.ErrorLineAsync(meant is null
            ? $"'{typed}' is not a command; the commands are {string.Join(", ", names)}."
            : $"'{typed}' is not a command; did you mean '{meant}'?").ConfigureAwait(false);
        await context.ErrorLineAsync($"Run '{ToolName} --help' for usage.").ConfigureAwait(false);
        return ExitCodes.Usage;
    }
}
