using System.Threading.Channels;

namespace Headless.Discovery.Testing;

/// <summary>One pending wait: the condition a snapshot must meet, and the task that completes with it.</summary>
internal sealed class FakeWaiter(Func<EndpointSet, int, bool> done, int argument)
{
    public TaskCompletionSource<EndpointSet> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool IsSatisfiedBy(EndpointSet set) => done(set, argument);
}

/// <summary>One watch: its unbounded queue of changes and the last snapshot it was given.</summary>
internal sealed class FakeWatcher
{
    private EndpointSet? _last;

    public Channel<EndpointSetChange> Changes { get; } = Channel.CreateUnbounded<EndpointSetChange>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>Queues the change from the last snapshot given to <paramref name="next"/>; called under the fake service's lock.</summary>
    public void Offer(EndpointSet next)
    {
        Changes.Writer.TryWrite(EndpointSetChange.Compute(_last, next));
        _last = next;
    }
}
