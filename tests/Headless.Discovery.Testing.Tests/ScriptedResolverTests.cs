using System.Net;

namespace Headless.Discovery.Testing.Tests;

/// <summary>The shipped scripted resolver: queued rounds first, in order, then the fallback, synchronously.</summary>
public sealed class ScriptedResolverTests
{
    private static readonly ServiceName Service = ServiceName.Parse("web.default.svc.cluster.local");

    private static ResolutionResult Answer(int n) => ResolutionResult.Success([new PodEndpoint(IPAddress.Parse($"10.0.0.{n}"), 80)], TimeSpan.FromSeconds(5));

    [Fact]
    public async Task Queued_answers_come_first_in_order_then_the_fallback_completes_synchronously_and_every_round_counts()
    {
        ResolutionResult fallback = Answer(1), first = Answer(2), second = Answer(3);
        var resolver = new ScriptedResolver(fallback);
        resolver.Enqueue(first, second);
        resolver.EnqueueThrow(new InvalidOperationException("broken"));

        Assert.Same(first, await resolver.ResolveAsync(Service));
        Assert.Same(second, await resolver.ResolveAsync(Service));
        await Assert.ThrowsAsync<InvalidOperationException>(() => resolver.ResolveAsync(Service).AsTask());

        ValueTask<ResolutionResult> round = resolver.ResolveAsync(Service);
        Assert.True(round.IsCompletedSuccessfully);
        Assert.Same(fallback, await round);
        Assert.Equal(4, resolver.Calls);

        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        Assert.True(resolver.ResolveAsync(Service, cancelled.Token).IsCanceled);
    }

    [Fact]
    public async Task A_blocked_round_waits_for_release_even_with_nothing_queued()
    {
        var resolver = new ScriptedResolver(Answer(1));
        resolver.Block();
        ValueTask<ResolutionResult> round = resolver.ResolveAsync(Service);
        await resolver.Entered.WaitAsync(TestTimeouts.Generous);
        Assert.False(round.IsCompleted);

        resolver.Release();
        Assert.Same(resolver.Fallback, await round.AsTask().WaitAsync(TestTimeouts.Generous));
    }
}
