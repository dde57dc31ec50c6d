using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace Headless.Discovery.Redis.Tests;

/// <summary>
/// A real <c>redis-server</c> (Debian's package; <c>.ci/run</c> installs it) on its own loopback address, as one pod of a
/// StatefulSet: no persistence, diskless replication, optionally a replica of another server.
/// </summary>
internal sealed class RedisServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _directory;
    private ConnectionMultiplexer? _admin;

    private RedisServer(Process process, string directory, IPEndPoint endPoint)
    {
        _process = process;
        _directory = directory;
        EndPoint = endPoint;
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>A port free on <paramref name="address"/>, to give every pod of the set the same one.</summary>
    public static int FreePort(IPAddress address)
    {
        using var listener = new TcpListener(address, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static async Task<RedisServer> StartAsync(IPAddress address, int port, RedisServer? replicaOf = null)
    {
        string directory = Directory.CreateTempSubdirectory("headless-redis-").FullName;
        var start = new ProcessStartInfo("redis-server")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in (string[])[
            "--bind", address.ToString(), "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--save", "", "--appendonly", "no", "--dir", directory, "--protected-mode", "no",
            "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0", "--daemonize", "no"])
        {
            start.ArgumentList.Add(arg);
        }

        if (replicaOf is not null)
        {
            start.ArgumentList.Add("--replicaof");
            start.ArgumentList.Add(replicaOf.EndPoint.Address.ToString());
            start.ArgumentList.Add(replicaOf.EndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        Process process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start.");
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                output.Enqueue(line);
                if (line.Contains("Ready to accept connections", StringComparison.Ordinal))
                {
                    ready.TrySetResult();
                }
            }
        };
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException("redis-server exited: " + string.Join(Environment.NewLine, output)));
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new RedisServer(process, directory, new IPEndPoint(address, port));
        try
        {
            await ready.Task.WaitAsync(Testing.TestTimeouts.Generous);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    /// <summary>An admin connection to this server alone (role changes, checks).</summary>
    public async Task<IServer> AdminAsync()
    {
        _admin ??= await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions { EndPoints = { EndPoint }, AllowAdmin = true, AbortOnConnectFail = true });
        return _admin.GetServer(EndPoint);
    }

    /// <summary>
    /// On a primary: waits until <paramref name="replicas"/> replicas hold everything written so far — a write, then
    /// Redis's own <c>WAIT</c>, which returns as soon as they acknowledge it (the server's signal; no polling).
    /// </summary>
    public async Task WaitForReplicasAsync(int replicas)
    {
        // A fresh connection: the client keeps the role it first saw (a promoted replica would refuse the write).
        if (_admin is not null)
        {
            await _admin.CloseAsync(allowCommandsToComplete: false);
            _admin.Dispose();
            _admin = null;
        }

        IServer server = await AdminAsync();
        await server.ExecuteAsync("SET", "sync-probe", Guid.NewGuid().ToString());
        long acknowledged = (long)await server.ExecuteAsync("WAIT", replicas, (long)Testing.TestTimeouts.Generous.TotalMilliseconds);
        Assert.Equal(replicas, acknowledged);
    }

    public async ValueTask DisposeAsync()
    {
        if (_admin is not null)
        {
            await _admin.CloseAsync(allowCommandsToComplete: false);
            _admin.Dispose();
        }

        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
