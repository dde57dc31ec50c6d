using Headless.Discovery;
using Headless.Discovery.Tests.Refresh;

namespace Headless.Discovery.Tests.Selection;

public sealed class SelectorConcurrencyTests
{

    [Theory]
    [MemberData(nameof(SelectorHealthTests.Kinds), MemberType = typeof(SelectorHealthTests))]
    public async Task Many_threads_pick_while_the_set_churns(string kind)
    {
        // Every published set holds pods 1..3 (as StatefulSet pods 0..3 for ordinal picks) plus a rotating few.
        var resolver = new ScriptedResolver(Answer(0));
        await using var service = new HeadlessService(
            TestPods.ServiceName,
            resolver,
            new HeadlessServiceOptions { MinRefreshInterval = TimeSpan.FromHours(1), MaxRefreshInterval = TimeSpan.FromHours(1) });
        await service.GetEndpointsAsync().AsTask().WaitAsync(Generous);

        Func<PodEndpoint> pick = SelectorHealthTests.Picker(kind, service, out _);
        var everMember = new HashSet<PodEndpoint>(Enumerable.Range(0, 40).SelectMany(Members));
        using var stop = new CancellationTokenSource();
        var errors = new List<Exception>();
        long picks = 0;
        int started = 0;
        var allStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        Task[] pickers = [.. Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            // Bounded: stops when churn ends, or after 5 million picks at most.
            for (int i = 0; i < 5_000_000 && !stop.IsCancellationRequested; i++)
            {
                try
                {
                    PodEndpoint pod = pick();
                    if (!everMember.Contains(pod))
                    {
                        lock (errors)
                        {
                            errors.Add(new InvalidOperationException($"picked {pod}, never a member"));
                        }
                    }

                    Interlocked.Increment(ref picks);
                    if (i == 1_000 && Interlocked.Increment(ref started) == 4)
                    {
                        allStarted.TrySetResult();
                    }
                }
                catch (Exception ex)
                {
                    lock (errors)
                    {
                        errors.Add(ex);
                    }

                    allStarted.TrySetResult();
                    return;
                }
            }
        }))];

        await allStarted.Task.WaitAsync(Generous);
        for (int round = 1; round < 40; round++)
        {
            resolver.Enqueue(Answer(round));
            await service.RefreshAsync().AsTask().WaitAsync(Generous);
        }

        await stop.CancelAsync();
        await Task.WhenAll(pickers).WaitAsync(Generous);

        Assert.Empty(errors);
        Assert.True(Interlocked.Read(ref picks) > 0);
        Assert.True(service.Current.Version >= 20, $"only {service.Current.Version} snapshots published after {resolver.Calls} calls: {service.Current}");

        // After the churn, picks come from the final set only.
        HashSet<PodEndpoint> final = [.. service.Current.Endpoints];
        Assert.All(Enumerable.Range(0, 200).Select(_ => pick()), p => Assert.Contains(p, final));
    }

    private static IEnumerable<PodEndpoint> Members(int round) =>
        Enumerable.Range(0, 4).Select(o => TestPods.StatefulPod(o))
            .Concat(Enumerable.Range(10 + (round % 7), 1 + (round % 5)).Select(i => TestPods.StatefulPod(i)));

    private static ResolutionResult Answer(int round) => ResolutionResult.Success(Members(round), TimeSpan.FromSeconds(5));
}
