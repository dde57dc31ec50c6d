using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using Headless.Discovery.Cli;
using Headless.Discovery.Cli.Tests;

namespace Headless.Discovery.IntegrationTests;

/// <summary>The real <c>headless-discovery</c> process: exit codes through <c>Main</c>, and SIGTERM / SIGINT ending a watch with 0.</summary>
[Collection(DnsmasqTests.Name)]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public partial class ProcessTests(DnsmasqFixture dnsmasq)
{
    private const int SigInt = 2;
    private const int SigTerm = 15;

    private static Process Start(params string[] args)
    {
        string dll = typeof(CliApp).Assembly.Location;

        // Through env(1), which gives the CLI the default SIGINT and SIGQUIT a terminal would: a test run started in
        // the background (`.ci/run &`) has them ignored, a child inherits that, and .NET then installs no handler —
        // the SIGINT test would wait for an exit that never comes.
        var start = new ProcessStartInfo("env")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("--default-signal=INT,QUIT");
        start.ArgumentList.Add(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet");
        start.ArgumentList.Add(dll);
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return Process.Start(start) ?? throw new InvalidOperationException("could not start the CLI");
    }

    private static async Task<(int ExitCode, LineWriter Stdout, LineWriter Stderr)> RunToEndAsync(params string[] args)
    {
        using Process process = Start(args);
        var stdout = new LineWriter();
        var stderr = new LineWriter();
        Task pumpOut = PumpAsync(process.StandardOutput, stdout);
        Task pumpErr = PumpAsync(process.StandardError, stderr);
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        await Task.WhenAll(pumpOut, pumpErr).WaitAsync(TimeSpan.FromSeconds(10));
        return (process.ExitCode, stdout, stderr);
    }

    private static async Task PumpAsync(StreamReader reader, LineWriter writer)
    {
        // Bounded by the process: ReadLineAsync returns null at its exit.
        while (await reader.ReadLineAsync() is { } line)
        {
            writer.WriteLine(line);
        }
    }

    [Fact]
    public async Task ResolveExitCodesComeThroughMain()
    {
        const string name = "process-resolve.default.svc.cluster.local";
        await dnsmasq.SetHostsAsync(name, [IPAddress.Parse("10.40.0.1")]);

        (int ok, LineWriter okOut, LineWriter okErr) = await RunToEndAsync("resolve", name, "--dns-server", dnsmasq.NameServer, "--port", "80", "--json");
        Assert.True(ok == 0, okErr.Text);
        Assert.Equal("""{"service":"process-resolve.default.svc.cluster.local","ttl":1,"endpoints":[{"address":"10.40.0.1","port":80,"hostname":null}]}""", Assert.Single(okOut.Lines));

        (int missing, _, LineWriter missingErr) = await RunToEndAsync("resolve", "process-missing.default.svc.cluster.local", "--dns-server", dnsmasq.NameServer);
        Assert.Equal(ExitCodes.NotFound, missing);
        Assert.Contains("process-missing.default.svc.cluster.local", missingErr.Text, StringComparison.Ordinal);

        (int usage, _, LineWriter usageErr) = await RunToEndAsync("resolve", name, "--address-family", "ipv5");
        Assert.Equal(ExitCodes.Usage, usage);
        Assert.Contains("--address-family", usageErr.Text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(SigTerm)]
    [InlineData(SigInt)]
    public async Task ASignalEndsAWatchWithExitZero(int signal)
    {
        const string name = "process-watch.default.svc.cluster.local";
        await dnsmasq.SetHostsAsync(name, [IPAddress.Parse("10.41.0.1")]);
        using Process process = Start("watch", name, "--dns-server", dnsmasq.NameServer, "--port", "80", "--json");
        var stdout = new LineWriter();
        var stderr = new LineWriter();
        Task pumpOut = PumpAsync(process.StandardOutput, stdout);
        Task pumpErr = PumpAsync(process.StandardError, stderr);
        try
        {
            // The first line arrives flushed, while the process keeps running.
            (_, string first) = await stdout.WaitForLineAsync(l => l.StartsWith('{'), what: "the initial snapshot");
            Assert.Equal(["10.41.0.1:80"], WatchLine.Parse(first).Endpoints);
            Assert.False(process.HasExited);

            Assert.Equal(0, kill(process.Id, signal));
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            await Task.WhenAll(pumpOut, pumpErr).WaitAsync(TimeSpan.FromSeconds(10));
            Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}\n{stderr.Text}");
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int sig);
}
