using System.Runtime.CompilerServices;
using CsCheck;
using Headless.Discovery.Tests.Refresh;
using Headless.Discovery.TestSupport;
using Microsoft.Extensions.Time.Testing;

namespace Headless.Discovery.Tests.Health;

/// <summary>
/// A probe that ignores its cancellation token and fails later is abandoned, never awaited, whichever way the monitor
/// stops waiting for it: its own timeout, the pod leaving the set, or the service being disposed. Its late failure must
/// be observed, not end up as an <see cref="TaskScheduler.UnobservedTaskException"/> (one per pod on the old code).
/// </summary>
public sealed class AbandonedProbeTests
{
    public enum AbandonedBy
    {
        ServiceDisposed,
        PodRemoved,
        ProbeTimedOut,

        /// <summary>The public <see cref="EndpointProbeExtensions.ProbeAsync"/> called directly, its caller's token cancelled.</summary>
        CallerCancelled,
    }

    public enum ProbeKind
    {
        /// <summary>A custom <see cref="IEndpointProbe"/> whose ValueTask wraps a Task that faults later.</summary>
        CustomProbe,

        /// <summary>A <see cref="DelegateProbe"/> over an async method that throws after an await.</summary>
        DelegateProbe,
    }

    [Theory]
    [InlineData(AbandonedBy.ServiceDisposed, ProbeKind.CustomProbe)]
    [InlineData(AbandonedBy.ServiceDisposed, ProbeKind.DelegateProbe)]
    [InlineData(AbandonedBy.PodRemoved, ProbeKind.CustomProbe)]
    [InlineData(AbandonedBy.PodRemoved, ProbeKind.DelegateProbe)]
    [InlineData(AbandonedBy.ProbeTimedOut, ProbeKind.DelegateProbe)]
    [InlineData(AbandonedBy.CallerCancelled, ProbeKind.CustomProbe)]
    public async Task A_probe_that_ignores_its_token_and_fails_after_being_abandoned_raises_no_unobserved_exception(AbandonedBy by, ProbeKind kind)
    {
        // Three pods, all deaf to their token: the case.
        await AssertNothingUnobservedAsync(pods: 3, deafMask: 0b111, by, kind);
    }

    [Fact]
    public async Task Every_abandoned_probe_is_observed_for_any_pod_count_deaf_subset_abandonment_and_probe_kind()
    {
        Gen<(int Pods, int DeafMask, AbandonedBy By, ProbeKind Kind)> cases =
            from pods in Gen.Int[1, 5]
            from mask in Gen.Int[1, (1 << pods) - 1]
            from how in Gen.Enum<AbandonedBy>()
            from kind in Gen.Enum<ProbeKind>()
            select (pods, mask, how, kind);

        // One at a time: each case counts the unobserved exceptions its own garbage collection reports.
        await Property.ForAllAsync(
            cases,
            iterations: 40,
            seed: 0x10080001UL,
            c => AssertNothingUnobservedAsync(c.Pods, c.DeafMask, c.By, c.Kind));
    }

    private static async Task AssertNothingUnobservedAsync(int pods, int deafMask, AbandonedBy by, ProbeKind kind)
    {
        using UnobservedTaskExceptionRecorder recorder = UnobservedTaskExceptionGuard.Record(static e => e is AbandonedProbeException);
        UnobservedTaskExceptionRecorder.CollectGarbage();

        int abandoned = await RunAndFailLateAsync(pods, deafMask, by, kind);
        LoseAFaultedTask();
        UnobservedTaskExceptionRecorder.CollectGarbage();

        Assert.Equal(System.Numerics.BitOperations.PopCount((uint)deafMask), abandoned);
        // The control task proves that this collection reports unobserved exceptions; nothing else may show up.
        Assert.Equal(["control"], recorder.Exceptions.Select(e => e.Message));
    }

    /// <summary>A faulted task nobody observes, so the test sees that its garbage collection really reports one.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void LoseAFaultedTask() => _ = Task.FromException(new AbandonedProbeException("control"));

    /// <summary>
    /// Runs a service whose deaf pods' probes hang, abandons them <paramref name="by"/> the given way, then makes every
    /// hung probe fail. Returns how many were abandoned. Every reference to the probe tasks is gone when this returns.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task<int> RunAndFailLateAsync(int pods, int deafMask, AbandonedBy by, ProbeKind kind)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        PodEndpoint[] all = [.. Enumerable.Range(1, pods).Select(i => ScriptedAnswers.Pod(i))];
        HashSet<PodEndpoint> deaf = [.. all.Where((_, i) => (deafMask & (1 << i)) != 0)];
        var hung = new HungProbes(deaf);
        IEndpointProbe probe = kind == ProbeKind.CustomProbe
            ? hung
            : new DelegateProbe(async (endpoint, ct) =>
            {
                ProbeResult result = await hung.ProbeAsync(endpoint, ct).ConfigureAwait(false);
                return result;
            });
        var resolver = new ScriptedResolver(ResolutionResult.Success(all, TimeSpan.FromHours(1)));
        var options = new HeadlessServiceOptions { MinRefreshInterval = TimeSpan.FromSeconds(1), MaxRefreshInterval = TimeSpan.FromHours(1) };
        options.ActiveHealth.CustomProbe = probe;
        options.ActiveHealth.Interval = TimeSpan.FromSeconds(5);
        options.ActiveHealth.Timeout = TimeSpan.FromSeconds(2);
        options.ActiveHealth.IntervalJitter = 0;
        if (by == AbandonedBy.CallerCancelled)
        {
            using var cts = new CancellationTokenSource();
            Task<ProbeResult>[] running = [.. all.Select(pod => probe.ProbeAsync(pod, options.ActiveHealth.Timeout, time, cts.Token).AsTask())];
            await hung.AllStarted.WaitAsync(Generous);
            await cts.CancelAsync();
            foreach (Task<ProbeResult> call in running.Where((_, i) => deaf.Contains(all[i])))
            {
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WaitAsync(Generous));
            }

            return hung.FailAll();
        }

        ServiceName name = HealthMetrics.UniqueName("abandoned");
        using var metrics = new HealthMetrics(name);
        var service = new HeadlessService(name, resolver, options, time);
        try
        {
            await service.GetEndpointsAsync().AsTask().WaitAsync(Generous);
            await hung.AllStarted.WaitAsync(Generous);
            switch (by)
            {
                case AbandonedBy.ServiceDisposed:
                    await service.DisposeAsync().AsTask().WaitAsync(Generous);
                    break;
                case AbandonedBy.PodRemoved:
                    // A newcomer keeps the answer non-empty when every pod leaves.
                    resolver.Fallback = ResolutionResult.Success(all.Except(deaf).Append(ScriptedAnswers.Pod(100)), TimeSpan.FromHours(1));
                    await service.RefreshAsync().AsTask().WaitAsync(Generous);
                    // Their loops were cancelled by the removal; the disposal below waits for them to end.
                    Assert.DoesNotContain(service.Current.Endpoints, deaf.Contains);
                    break;
                case AbandonedBy.ProbeTimedOut:
                    time.Advance(options.ActiveHealth.Timeout);
                    await metrics.WaitForProbesAsync(pods).WaitAsync(Generous);
                    Assert.All(deaf, pod => Assert.StartsWith("timed out", service.GetHealthDetails().Single(s => s.Endpoint == pod).LastError, StringComparison.Ordinal));
                    break;
            }
        }
        finally
        {
            await service.DisposeAsync();
        }

        return hung.FailAll();
    }

    /// <summary>Healthy at once for most pods; for the deaf ones, a probe that ignores its token and hangs until failed.</summary>
    private sealed class HungProbes(HashSet<PodEndpoint> deaf) : IEndpointProbe
    {
        private readonly List<TaskCompletionSource<ProbeResult>> _hung = [];
        private readonly TaskCompletionSource _allStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task AllStarted => _allStarted.Task;

        public ValueTask<ProbeResult> ProbeAsync(PodEndpoint endpoint, CancellationToken cancellationToken = default)
        {
            if (!deaf.Contains(endpoint))
            {
                return ValueTask.FromResult(ProbeResult.Healthy());
            }

            // Continuations run inline, so the task has faulted (and been observed, or not) when FailAll returns.
            var hung = new TaskCompletionSource<ProbeResult>();
            lock (_hung)
            {
                _hung.Add(hung);
                if (_hung.Count == deaf.Count)
                {
                    _allStarted.TrySetResult();
                }
            }

            return new ValueTask<ProbeResult>(hung.Task);
        }

        public int FailAll()
        {
            TaskCompletionSource<ProbeResult>[] hung;
            lock (_hung)
            {
                hung = [.. _hung];
                _hung.Clear();
            }

            foreach (TaskCompletionSource<ProbeResult> probe in hung)
            {
                probe.SetException(new AbandonedProbeException("the probe failed after it was abandoned"));
            }

            return hung.Length;
        }
    }

    private sealed class AbandonedProbeException(string message) : Exception(message);
}
