using System.Globalization;
using System.Threading.Channels;
using Headless.Discovery;
using Headless.Discovery.Tests.DependencyInjection;
using Headless.Discovery.Tests.Selection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Headless.Discovery.Tests.Connections;

/// <summary>
/// A ConnectionSet's reconnect schedule on the service's fake clock: each connect attempt is bounded by the connect
/// timeout, and failed attempts are retried after the shared backoff (initial doubling up to the maximum, equal
/// jitter) drawn from the random source given to the set, so a seed makes the delays exact.
/// </summary>
public sealed class ConnectionSetBackoffTests
{
    private static readonly TimeSpan Initial = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Max = TimeSpan.FromMilliseconds(400);
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

    /// <summary>A fake clock that tells when a timer is created (after it exists), with its due time.</summary>
    private sealed class TimerWatchingClock : FakeTimeProvider
    {
        private readonly Channel<TimeSpan> _created = Channel.CreateUnbounded<TimeSpan>();

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            ITimer timer = base.CreateTimer(callback, state, dueTime, period);
            _created.Writer.TryWrite(dueTime);
            return timer;
        }

        public async Task<TimeSpan> NextTimerAsync() => await _created.Reader.ReadAsync().AsTask().WaitAsync(Generous);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(42)]
    public async Task Failed_connects_are_retried_after_the_seeded_backoff_on_the_service_clock(int seed)
    {
        var clock = new TimerWatchingClock();
        var service = new FakeHeadlessService(TestPods.Pod(0)) { TimeProvider = clock };
        using var logs = new ListLoggerProvider();
        using var loggerFactory = LoggerFactory.Create(builder => builder.AddProvider(logs));
        int attempts = 0;
        var connection = new object();
        var options = new ConnectionSetOptions { InitialBackoff = Initial, MaxBackoff = Max, ConnectTimeout = ConnectTimeout };
        await using var set = new ConnectionSet<object>(
            service,
            async (_, cancellationToken) =>
            {
                int attempt = Interlocked.Increment(ref attempts);
                if (attempt == 1)
                {
                    // The first attempt hangs until its connect timeout cancels it.
                    await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
                }

                return attempt <= 4 ? throw new IOException("refused") : connection;
            },
            close: _ => ValueTask.CompletedTask,
            options: options,
            loggerFactory: loggerFactory,
            random: new Random(seed));
        set.Start();

        var twin = new Random(seed);
        var expected = new List<TimeSpan>();
        for (int failure = 1; failure <= 4; failure++)
        {
            Assert.Equal(ConnectTimeout, await clock.NextTimerAsync());
            if (failure == 1)
            {
                clock.Advance(ConnectTimeout);
            }

            TimeSpan delay = await clock.NextTimerAsync();
            TimeSpan nominal = TimeSpan.FromTicks(Math.Min(Max.Ticks, Initial.Ticks << (failure - 1)));
            TimeSpan backoff = Backoff.Delay(failure, Initial, Max, twin.NextDouble());
            Assert.InRange(backoff, nominal / 2, nominal);
            expected.Add(backoff);

            // Task.Delay's timer counts whole milliseconds.
            Assert.Equal(TimeSpan.FromMilliseconds((long)backoff.TotalMilliseconds), delay);

            clock.Advance(delay - TimeSpan.FromTicks(1));
            Assert.Equal(failure, Volatile.Read(ref attempts));
            clock.Advance(TimeSpan.FromTicks(1));
        }

        PodConnection<object> live = Assert.Single(await set.WaitAsync(c => c.Length >= 1).AsTask().WaitAsync(Generous));
        Assert.Same(connection, live.Connection);
        Assert.Equal(5, attempts);
        Assert.Equal(
            expected.Select((d, i) => $"Service {service.Name}: connect attempt {i + 1} to {TestPods.Pod(0).Key} failed; retrying in {d.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)} ms."),
            logs.Entries.Where(e => e.EventId == 1302).Select(e => e.Message));
    }

    [Fact]
    public async Task A_refused_connect_asks_the_service_for_an_early_refresh_and_other_failures_do_not()
    {
        // The first attempt connects, for real, to a stopped loopback pod (refused); the second fails otherwise.
        await using LoopbackPod stopped = await LoopbackPod.StartTcpAsync(System.Net.IPAddress.Parse("127.0.0.63"));
        await stopped.StopAsync();
        var clock = new TimerWatchingClock();
        var service = new FakeHeadlessService(TestPods.Pod(0)) { TimeProvider = clock };
        int attempts = 0;
        await using var set = new ConnectionSet<object>(
            service,
            async (_, cancellationToken) =>
            {
                if (Interlocked.Increment(ref attempts) == 1)
                {
                    using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
                    await socket.ConnectAsync(stopped.EndPoint, cancellationToken);
                }

                throw new IOException("handshake failed");
            },
            options: new ConnectionSetOptions { InitialBackoff = Initial, MaxBackoff = Max, ConnectTimeout = ConnectTimeout },
            random: new Random(1));
        set.Start();

        // Attempt 1: its timeout timer, then (after the refused connect) its backoff timer.
        Assert.Equal(ConnectTimeout, await clock.NextTimerAsync());
        TimeSpan delay = await clock.NextTimerAsync();
        Assert.Equal(1, service.RefreshRequests);

        // Attempt 2 fails without saying the pod left.
        clock.Advance(delay);
        Assert.Equal(ConnectTimeout, await clock.NextTimerAsync());
        _ = await clock.NextTimerAsync();
        Assert.Equal(2, Volatile.Read(ref attempts));
        Assert.Equal(1, service.RefreshRequests);
    }
}
