using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using CsCheck;
using Headless.Discovery.TestSupport;

namespace Headless.Discovery.Testing.Tests;

/// <summary>
/// Disposing the server leaves nothing behind: no task whose exception nobody observes, no open TCP connection.
/// These tests count every unobserved task exception a forced garbage collection reports, so they run alone.
/// </summary>
[Collection(Isolated.Name)]
public sealed class EmbeddedDnsServerDisposalTests
{
    private const string Service = "web.default.svc.cluster.local";
    private const ushort A = 1;

    [Fact]
    public async Task Disposing_a_server_that_answered_4000_records_over_TCP_raises_no_unobserved_task_exception()
    {
        // The case, four runs: the client keeps its connection open while the server is disposed.
        for (var run = 0; run < 4; run++)
        {
            await AssertNothingUnobservedAsync(connections: 1, queriesPerConnection: 1, records: 4000, closeFirst: 0);
        }
    }

    [Fact]
    public async Task Disposing_after_any_TCP_traffic_raises_no_unobserved_task_exception()
    {
        Gen<(int Connections, int Queries, int Records, int CloseFirst)> cases =
            from connections in Gen.Int[1, 3]
            from queries in Gen.Int[1, 3]
            from records in Gen.OneOf(1, 100, 4000)
            from closeFirst in Gen.Int[0, connections]
            select (connections, queries, records, closeFirst);

        // One at a time: each case counts what its own garbage collection reports.
        await Property.ForAllAsync(
            cases,
            iterations: 16,
            seed: 0x10080101UL,
            c => AssertNothingUnobservedAsync(c.Connections, c.Queries, c.Records, c.CloseFirst));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Disposing_or_disabling_TCP_closes_the_TCP_connections_clients_keep_open(bool dispose)
    {
        await using var server = await EmbeddedDnsServer.StartAsync();
        server.SetAddresses(Service, [IPAddress.Parse("10.0.0.1")]);
        using var first = await ConnectAsync(server);
        using var second = await ConnectAsync(server);
        Assert.Equal(1, (await RawDns.QueryTcpAsync(first, Service, A)).AnswerCount);
        Assert.Equal(1, (await RawDns.QueryTcpAsync(second, Service, A)).AnswerCount);

        if (dispose)
        {
            await server.DisposeAsync();
        }
        else
        {
            server.TcpEnabled = false;
        }

        // The client learns at once that its connection is gone (end of stream or reset), not after its own timeout.
        foreach (var connection in new[] { first, second })
        {
            using var timeout = new CancellationTokenSource(Generous);
            try
            {
                Assert.Equal(0, await connection.ReceiveAsync(new byte[1], SocketFlags.None, timeout.Token));
            }
            catch (SocketException reset)
            {
                Assert.Equal(SocketError.ConnectionReset, reset.SocketErrorCode);
            }
        }
    }

    private static async Task AssertNothingUnobservedAsync(int connections, int queriesPerConnection, int records, int closeFirst)
    {
        // Alone in the process (see Isolated), every unobserved exception is ours; flush earlier tests' garbage first.
        UnobservedTaskExceptionRecorder.CollectGarbage();
        using var recorder = UnobservedTaskExceptionGuard.Record(static _ => true);

        await AnswerOverTcpThenDisposeAsync(connections, queriesPerConnection, records, closeFirst);
        LoseAFaultedTask();
        UnobservedTaskExceptionRecorder.CollectGarbage();

        // The control task proves that this collection reports unobserved exceptions; nothing else may show up.
        Assert.Equal([nameof(ControlException)], recorder.Exceptions.Select(e => e.GetType().Name + (e is ControlException ? string.Empty : ": " + e)));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void LoseAFaultedTask() => _ = Task.FromException(new ControlException());

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task AnswerOverTcpThenDisposeAsync(int connections, int queriesPerConnection, int records, int closeFirst)
    {
        var server = await EmbeddedDnsServer.StartAsync();
        server.SetAddresses(Service, Enumerable.Range(0, records).Select(i => new IPAddress([10, 1, (byte)(i / 250), (byte)(1 + (i % 250))])));
        var sockets = new List<Socket>();
        try
        {
            for (var c = 0; c < connections; c++)
            {
                var socket = await ConnectAsync(server);
                sockets.Add(socket);
                for (var q = 0; q < queriesPerConnection; q++)
                {
                    Assert.Equal(records, (await RawDns.QueryTcpAsync(socket, Service, A)).AnswerCount);
                }
            }

            // Some clients hang up before the server is disposed; the others keep their connection open across it.
            foreach (var socket in sockets.Take(closeFirst))
            {
                socket.Dispose();
            }

            Assert.Equal(connections * queriesPerConnection, server.TcpQueries);
        }
        finally
        {
            await server.DisposeAsync();
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }
        }
    }

    private static async Task<Socket> ConnectAsync(EmbeddedDnsServer server)
    {
        var socket = new Socket(server.EndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server.EndPoint);
        return socket;
    }

    private sealed class ControlException : Exception;
}

/// <summary>A collection that xUnit runs after the parallel ones, alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class Isolated
{
    public const string Name = "Isolated from parallel tests";
}
