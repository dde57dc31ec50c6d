using System.Runtime.InteropServices;

namespace Headless.Discovery.Cli;

/// <summary>The process entry point: the console and the termination signals, around <see cref="CliApp"/>.</summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        using var stopping = new CancellationTokenSource();

        // First Ctrl+C / SIGTERM asks the command to end cleanly; a second one kills the process the default way.
        void OnSignal(PosixSignalContext signal)
        {
            if (!stopping.IsCancellationRequested)
            {
                signal.Cancel = true;
                stopping.Cancel();
            }
        }

        using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        using PosixSignalRegistration sigquit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, OnSignal);

        return await CliApp.RunAsync(args, Console.Out, Console.Error, stopping.Token).ConfigureAwait(false);
    }
}
