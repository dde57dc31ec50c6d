namespace Headless.Discovery.Tests.Refresh;

/// <summary>Stopping the dispatcher while a handler runs: every stop waits for that delivery, and none after it starts.</summary>
public sealed class ChangeDispatcherTests
{
    private static EndpointSetChange Change(long version)
    {
        ServiceName name = ServiceName.Parse("web.default.svc.cluster.local");
        return EndpointSetChange.Compute(null, EndpointSet.Create(name, [], version, DateTimeOffset.UnixEpoch, TimeSpan.Zero));
    }

    [Fact]
    public async Task Two_stops_during_a_delivery_both_complete_when_it_returns_and_the_queue_is_dropped()
    {
        using var entered = new SemaphoreSlim(0);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var delivered = new List<long>();
        var dispatcher = new ChangeDispatcher(change =>
        {
            delivered.Add(change.Current.Version);
            entered.Release();
            release.Task.Wait();
        });

        dispatcher.Enqueue(Change(1));
        Assert.True(await entered.WaitAsync(Generous));
        dispatcher.Enqueue(Change(2));

        Task first = dispatcher.StopAsync(fromHandler: false);
        Task second = dispatcher.StopAsync(fromHandler: false);
        Assert.False(first.IsCompleted);
        Assert.False(second.IsCompleted);

        release.SetResult();
        await Task.WhenAll(first, second).WaitAsync(Generous);
        Assert.Equal([1L], delivered);

        dispatcher.Enqueue(Change(3));
        Assert.Equal([1L], delivered);
    }
}
