using System.Net;
using Headless.Discovery;
using Headless.Discovery.Testing;
using Headless.Discovery.Tests.Selection;

namespace Headless.Discovery.Tests.FanOut;

/// <summary>
/// One exception per condition: a fan-out over a disposed <see cref="HeadlessService"/> throws
/// <see cref="ObjectDisposedException"/> every time (never an <see cref="OperationCanceledException"/> that looks as if
/// the caller cancelled), whether the service was disposed before the call, while the fan-out waited for the first
/// resolution, or while calls were in flight. Real DNS over loopback; many deterministic attempts, no timing.
/// </summary>
public sealed class FanOutDisposalTests : IAsyncLifetime
{
    private const string Name = "disposed.default.svc.cluster.local";
    private const int Attempts = 200;
    private EmbeddedDnsServer _dns = null!;

    public async Task InitializeAsync()
    {
        _dns = await EmbeddedDnsServer.StartAsync();
        _dns.SetAddresses(Name, [IPAddress.Parse("127.0.1.1"), IPAddress.Parse("127.0.1.2"), IPAddress.Parse("127.0.1.3")]);
    }

    public async Task DisposeAsync() => await _dns.DisposeAsync();

    private HeadlessService NewService()
    {
        var options = new HeadlessServiceOptions { Name = Name, Port = 8080 };
        options.DnsServers.Add(_dns.NameServer);
        return new HeadlessService(options);
    }

    // Never sends anything: these tests are about the service's lifetime, not the pods.
    private static ValueTask<int> Succeed(PodEndpoint endpoint, CancellationToken cancellationToken) => new(1);

    private static void AssertAlways<TException>(Dictionary<string, int> thrown)
    {
        string expected = typeof(TException).Name;
        Assert.True(
            thrown.Count == 1 && thrown.GetValueOrDefault(expected) == Attempts,
            $"expected {expected} in all {Attempts} attempts, saw: {string.Join(", ", thrown.Select(kv => $"{kv.Key} {kv.Value}"))}");
    }

    private static void Count(Dictionary<string, int> thrown, Exception? exception)
    {
        string key = exception?.GetType().Name ?? "no exception";
        thrown[key] = thrown.GetValueOrDefault(key) + 1;
    }

    [Fact]
    public async Task FanOutAsync_on_a_service_disposed_before_the_call_always_throws_ObjectDisposedException()
    {
        var thrown = new Dictionary<string, int>();
        for (int attempt = 0; attempt < Attempts; attempt++)
        {
            HeadlessService service = NewService();
            if (attempt % 2 == 0)
            {
                // Half of the services had resolved before they were disposed, half never had.
                await service.RefreshAsync();
            }

            await service.DisposeAsync();
            Count(thrown, await Record.ExceptionAsync(() => service.FanOutAsync(Succeed).WaitAsync(Generous)));
        }

        AssertAlways<ObjectDisposedException>(thrown);
    }

    [Fact]
    public async Task A_fan_out_over_any_IHeadlessService_stops_when_its_Stopping_token_is_cancelled()
    {
        // Not a HeadlessService: the fan-out knows the service's lifetime only through IHeadlessService.Stopping.
        FakeHeadlessService service = FanOutPods.Service(3);
        var started = new SemaphoreSlim(0);
        var cancelled = new SemaphoreSlim(0);
        Task<FanOutResult<int>> fanOut = service.FanOutAsync<int>(
            async (_, cancellationToken) =>
            {
                using CancellationTokenRegistration registration = cancellationToken.Register(() => cancelled.Release());
                started.Release();
                await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
                return 1;
            });
        for (int i = 0; i < 3; i++)
        {
            Assert.True(await started.WaitAsync(Generous), "a call did not start");
        }

        await service.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => fanOut.WaitAsync(Generous));
        for (int i = 0; i < 3; i++)
        {
            Assert.True(await cancelled.WaitAsync(Generous), "a call in flight was not cancelled");
        }

        await Assert.ThrowsAsync<ObjectDisposedException>(() => service.FanOutAsync(Succeed).WaitAsync(Generous));
        Assert.Empty(service.Outcomes);
    }

    [Fact]
    public async Task Disposal_while_the_fan_out_waits_for_the_first_resolution_throws_ObjectDisposedException()
    {
        // Queries are received but never answered, so every fan-out is still waiting when the service is disposed.
        _dns.Pause();
        var thrown = new Dictionary<string, int>();
        for (int attempt = 0; attempt < Attempts; attempt++)
        {
            _dns.ResetCounters();
            HeadlessService service = NewService();
            Task<FanOutResult<int>> fanOut = service.FanOutAsync(
                Succeed,
                // Half with a deadline, whose own wait must not turn disposal into a deadline result.
                new FanOutOptions { Deadline = attempt % 2 == 0 ? TimeSpan.FromMinutes(5) : null });
            await _dns.WaitForQueriesAsync(1).WaitAsync(Generous);

            await service.DisposeAsync();
            Count(thrown, await Record.ExceptionAsync(() => fanOut.WaitAsync(Generous)));
        }

        AssertAlways<ObjectDisposedException>(thrown);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_callers_cancellation_while_the_fan_out_waits_for_the_first_resolution_throws_OperationCanceledException_with_the_callers_token(bool withDeadline)
    {
        // Queries are received but never answered, so the fan-out is still waiting when the caller cancels.
        _dns.Pause();
        await using HeadlessService service = NewService();
        using var cts = new CancellationTokenSource();
        Task<FanOutResult<int>> fanOut = service.FanOutAsync(Succeed, new FanOutOptions { Deadline = withDeadline ? TimeSpan.FromMinutes(5) : null }, cts.Token);
        await _dns.WaitForQueriesAsync(1).WaitAsync(Generous);

        await cts.CancelAsync();

        OperationCanceledException cancelled = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => fanOut.WaitAsync(Generous));
        Assert.Equal(cts.Token, cancelled.CancellationToken);
    }

    [Fact]
    public async Task Disposal_while_calls_are_in_flight_throws_ObjectDisposedException_not_a_cancellation()
    {
        var thrown = new Dictionary<string, int>();
        for (int attempt = 0; attempt < Attempts; attempt++)
        {
            HeadlessService service = NewService();
            await service.RefreshAsync();
            var started = new SemaphoreSlim(0);
            bool honourToken = attempt % 2 == 0;
            Task<FanOutResult<int>> fanOut = service.FanOutAsync(async (_, ct) =>
            {
                started.Release();
                // Half of the attempts honour their token, half ignore it and never finish.
                await Task.Delay(Timeout.InfiniteTimeSpan, honourToken ? ct : CancellationToken.None);
                return 1;
            });
            Assert.True(await started.WaitAsync(Generous), "no call started");

            await service.DisposeAsync();
            Count(thrown, await Record.ExceptionAsync(() => fanOut.WaitAsync(Generous)));
        }

        AssertAlways<ObjectDisposedException>(thrown);
    }

    [Fact]
    public async Task The_callers_cancellation_still_throws_OperationCanceledException_with_the_callers_token()
    {
        await using HeadlessService service = NewService();
        await service.RefreshAsync();
        using var cts = new CancellationTokenSource();
        var started = new SemaphoreSlim(0);
        Task<FanOutResult<int>> fanOut = service.FanOutAsync(
            async (_, ct) =>
            {
                started.Release();
                await Task.Delay(Timeout.InfiniteTimeSpan, ct);
                return 1;
            },
            null,
            cts.Token);
        Assert.True(await started.WaitAsync(Generous));

        await cts.CancelAsync();

        OperationCanceledException cancelled = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => fanOut.WaitAsync(Generous));
        Assert.Equal(cts.Token, cancelled.CancellationToken);
    }
}
