using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using Headless.Discovery.Cli.Tests;
using Headless.Discovery.TestSupport;

namespace Headless.Discovery.IntegrationTests;

/// <summary>
/// A real dnsmasq on 127.0.0.1 and a free port, authoritative for <c>cluster.local</c> from a directory of hosts files
/// (one file per name, <c>&lt;ip&gt; &lt;name&gt;</c> per line) that dnsmasq re-reads on change through inotify.
/// TTL 1 s, no negative caching, no upstream. Killed on dispose.
/// </summary>
/// <remarks>
/// Fails (never skips) when dnsmasq is missing: install Debian's <c>dnsmasq-base</c>.
/// Every wait is bounded; readiness and reloads are awaited on dnsmasq's own log lines.
/// </remarks>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed partial class DnsmasqFixture : IAsyncLifetime
{
    public const string DnsmasqPath = "/usr/sbin/dnsmasq";
    public const string Domain = "cluster.local";

    private static readonly TimeSpan StartTimeout = Generous;
    private static readonly TimeSpan ReloadTimeout = TimeSpan.FromSeconds(20);
    private const int SigStop = 19;
    private const int SigCont = 18;

    private readonly LineWriter _log = new();
    private Process? _process;
    private string _root = string.Empty;
    private string _hostsDir = string.Empty;
    private string _stagingDir = string.Empty;
    private int _fileCounter;

    /// <summary>The port dnsmasq listens on (UDP and TCP) on 127.0.0.1.</summary>
    public int Port { get; private set; }

    /// <summary><c>127.0.0.1:&lt;port&gt;</c>, for <c>--dns-server</c>.</summary>
    public string NameServer => string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{Port}");

    /// <summary>dnsmasq's process id.</summary>
    public int ProcessId => _process?.Id ?? throw new InvalidOperationException("dnsmasq is not running.");

    /// <summary>Everything dnsmasq logged so far (for failure messages).</summary>
    public string Log => _log.Text;

    public async Task InitializeAsync()
    {
        if (!File.Exists(DnsmasqPath))
        {
            throw new InvalidOperationException(
                $"The integration tests need a real dnsmasq at {DnsmasqPath}, and there is none. "
                + "Install it with 'apt-get install -y dnsmasq-base' (CI's .ci/run does).");
        }

        _root = Directory.CreateTempSubdirectory("hd-dnsmasq-").FullName;
        _hostsDir = Path.Combine(_root, "hosts");
        _stagingDir = Path.Combine(_root, "staging");
        Directory.CreateDirectory(_hostsDir);
        Directory.CreateDirectory(_stagingDir);

        // dnsmasq started as root drops to 'nobody' unless told otherwise; keep the files readable either way.
        File.SetUnixFileMode(_root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        File.SetUnixFileMode(_hostsDir, File.GetUnixFileMode(_root));
        File.SetUnixFileMode(_stagingDir, File.GetUnixFileMode(_root));

        // The sentinel name dnsmasq must serve before the fixture counts as ready.
        await SetHostsAsync("ready.fixture." + Domain, [IPAddress.Parse("127.0.0.1")], waitForReload: false);

        Exception? lastError = null;
        for (int attempt = 0; attempt < 5; attempt++)
        {
            Port = FindFreePort();
            try
            {
                await StartProcessAsync();
                return;
            }
            catch (IOException ex)
            {
                // Port taken between probing and binding: try another one (bounded).
                lastError = ex;
            }
        }

        throw new InvalidOperationException($"dnsmasq could not be started on a free port after 5 attempts.\n{Log}", lastError);
    }

    private async Task StartProcessAsync()
    {
        var start = new ProcessStartInfo(DnsmasqPath)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[]
        {
            "--keep-in-foreground",
            "--log-facility=-",
            "--listen-address=127.0.0.1",
            $"--port={Port.ToString(CultureInfo.InvariantCulture)}",
            "--bind-interfaces",
            "--no-resolv",
            "--no-hosts",
            "--no-poll",
            $"--local=/{Domain}/",
            $"--hostsdir={_hostsDir}",
            "--local-ttl=1",
            "--no-negcache",
            "--conf-file=/dev/null",
            $"--pid-file={Path.Combine(_root, "dnsmasq.pid")}",
        })
        {
            start.ArgumentList.Add(arg);
        }

        if (Environment.IsPrivilegedProcess)
        {
            start.ArgumentList.Add("--user=root");
        }

        int logStart = _log.Lines.Count;
        Process process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {DnsmasqPath}.");
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { _log.WriteLine(e.Data); } };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { _log.WriteLine(e.Data); } };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        _process = process;

        Task<(int, string)> started = _log.WaitForLineAsync(
            line => line.Contains("read " + _hostsDir, StringComparison.Ordinal) || line.Contains("FAILED", StringComparison.Ordinal) || line.Contains("failed", StringComparison.Ordinal),
            logStart,
            StartTimeout,
            "dnsmasq having read its hosts directory");
        Task exited = process.WaitForExitAsync();
        Task first = await Task.WhenAny(started, exited);
        if (first == exited || started.Result.Item2.Contains("ailed", StringComparison.Ordinal))
        {
            await KillAsync();
            string log = Log;
            if (log.Contains("Address already in use", StringComparison.Ordinal))
            {
                throw new IOException($"dnsmasq: port {Port} in use.\n{log}");
            }

            throw new InvalidOperationException($"dnsmasq exited or failed at start.\n{log}");
        }

        // Reading the hosts directory happens after binding; still, confirm one real answer (bounded).
        await WaitUntilServedAsync("ready.fixture." + Domain, 1);
    }

    /// <summary>
    /// Replaces the A records of <paramref name="name"/> (an empty list removes the name: NXDOMAIN) and, unless told
    /// otherwise, waits until dnsmasq logs having re-read the file.
    /// </summary>
    public async Task SetHostsAsync(string name, IReadOnlyCollection<IPAddress> addresses, bool waitForReload = true)
    {
        string file = Path.Combine(_hostsDir, name);
        int logStart = _log.Lines.Count;
        var text = new StringBuilder(addresses.Count * 48);
        foreach (IPAddress address in addresses)
        {
            text.Append(address).Append(' ').Append(name).Append('\n');
        }

        // Write elsewhere and rename in, so dnsmasq never reads a half-written file.
        string staged = Path.Combine(_stagingDir, string.Create(CultureInfo.InvariantCulture, $"{name}.{Interlocked.Increment(ref _fileCounter)}"));
        await File.WriteAllTextAsync(staged, text.ToString());
        File.SetUnixFileMode(staged, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        File.Move(staged, file, overwrite: true);

        if (waitForReload && _process is not null)
        {
            string expected = string.Create(CultureInfo.InvariantCulture, $"read {file} - {addresses.Count} names");
            await _log.WaitForLineAsync(line => line.Contains(expected, StringComparison.Ordinal), logStart, ReloadTimeout, $"'{expected}'");
        }
    }

    /// <summary>Freezes dnsmasq (SIGSTOP): queries are received by the kernel but never answered.</summary>
    public void Freeze() => Signal(SigStop);

    /// <summary>Resumes dnsmasq after <see cref="Freeze"/> (SIGCONT).</summary>
    public void Thaw() => Signal(SigCont);

    /// <summary>Asks dnsmasq directly (raw UDP, then TCP on truncation) until it serves <paramref name="count"/> A records for <paramref name="name"/> (bounded).</summary>
    public async Task WaitUntilServedAsync(string name, int count)
    {
        using var timeout = new CancellationTokenSource(StartTimeout);
        int last = -1;
        for (int attempt = 0; attempt < 200; attempt++)
        {
            try
            {
                last = await RawDns.CountARecordsAsync(new IPEndPoint(IPAddress.Loopback, Port), name, timeout.Token);
                if (last == count)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is SocketException or IOException or TimeoutException)
            {
                last = -1;
            }
            catch (OperationCanceledException)
            {
                break;
            }

            // The answer comes from another process; there is no signal to await but its next answer.
            await Task.Delay(50, CancellationToken.None);
        }

        throw new TimeoutException($"dnsmasq did not serve {count} A records for {name} (last answer: {last}).\n{Log}");
    }

    public async Task DisposeAsync()
    {
        await KillAsync();
        try
        {
            if (_root.Length > 0)
            {
                Directory.Delete(_root, recursive: true);
            }
        }
        catch (IOException)
        {
            // A leftover temp directory is harmless.
        }
    }

    private async Task KillAsync()
    {
        Process? process = _process;
        _process = null;
        if (process is null)
        {
            return;
        }

        try
        {
            if (!process.HasExited)
            {
                _ = kill(process.Id, SigCont);
                // The tree: a child dnsmasq forked for a TCP connection holds the output pipes open, and waiting for
                // exit waits for those pipes to close too.
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        finally
        {
            process.Dispose();
        }
    }

    private void Signal(int signal)
    {
        if (kill(ProcessId, signal) != 0)
        {
            throw new InvalidOperationException($"kill({ProcessId}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}.");
        }
    }

    private static int FindFreePort()
    {
        // A port free for both TCP and UDP right now (bounded attempts).
        for (int attempt = 0; attempt < 50; attempt++)
        {
            using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            tcp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            int port = ((IPEndPoint)tcp.LocalEndPoint!).Port;
            using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            try
            {
                udp.Bind(new IPEndPoint(IPAddress.Loopback, port));
                return port;
            }
            catch (SocketException)
            {
                // Taken for UDP: try another.
            }
        }

        throw new InvalidOperationException("No free loopback port for both TCP and UDP.");
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int sig);
}

[CollectionDefinition(Name)]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class DnsmasqTests : ICollectionFixture<DnsmasqFixture>
{
    public const string Name = "dnsmasq";
}
