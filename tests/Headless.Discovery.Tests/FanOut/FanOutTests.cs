using Headless.Discovery.TestSupport;
using System.Collections.Concurrent;
using System.Net;
using Headless.Discovery;
using Headless.Discovery.Testing;
using Headless.Discovery.Tests.Selection;
using Polly;
using Polly.Retry;

namespace Headless.Discovery.Tests.FanOut;

/// <summary>Fan-out against real loopback HTTP pods (healthy, 500, slow, hanging, stopped).</summary>
public sealed class FanOutTests : IAsyncLifetime
{
    private readonly HttpClient _http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero, ConnectTimeout = TimeSpan.FromSeconds(10) }) { Timeout = Timeout.InfiniteTimeSpan };
    private LoopbackPodSet _pods = null!;

    private int _inFlight;
    private int _maxInFlight;
    private readonly ConcurrentDictionary<PodEndpoint, TaskCompletionSource> _cancelled = new();

    // What every pod that answers waits for before its request is sent (see AnswerOnlyOnceTheHangingPodsAreCalled).
    private Task _answersWaitFor = Task.CompletedTask;

    public async Task InitializeAsync() => _pods = await LoopbackPodSet.StartAsync(0);

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _pods.DisposeAsync();
    }

    private async Task<FakeHeadlessService> PodsAsync(params PodBehavior[] behaviors)
    {
        await _pods.ScaleAsync(behaviors.Length);
        for (int i = 0; i < behaviors.Length; i++)
        {
            _pods.Pods[i].Behavior = behaviors[i];
        }

        return new FakeHeadlessService([.. _pods.Pods.Select(p => new PodEndpoint(p.Address, p.Port))]);
    }

    /// <summary>
    /// Holds back every answer until each hanging pod has received its request, so the goal is decided while those
    /// calls are in flight (and they are cancelled), however late the thread pool runs them.
    /// </summary>
    private void AnswerOnlyOnceTheHangingPodsAreCalled() =>
        _answersWaitFor = Task.WhenAll(_pods.Pods.Where(p => p.Behavior == PodBehavior.Hang).Select(p => p.WaitForRequestsAsync(1)));

    /// <summary>Completes once <paramref name="endpoint"/>'s call has seen its token cancelled (the call may start after the fan-out returned).</summary>
    private Task CancelledAsync(PodEndpoint endpoint) => Cancelled(endpoint).Task.WaitAsync(Generous);

    private TaskCompletionSource Cancelled(PodEndpoint endpoint) =>
        _cancelled.GetOrAdd(endpoint, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    private LoopbackPod PodAt(PodEndpoint endpoint) => _pods.Pods.Single(p => p.Address.Equals(endpoint.Address));

    /// <summary>HTTP GET; a non-2xx status throws; tracks concurrency and records cancellation per pod.</summary>
    private async ValueTask<int> GetAsync(PodEndpoint endpoint, CancellationToken cancellationToken)
    {
        int now = Interlocked.Increment(ref _inFlight);
        AtomicMax.Raise(ref _maxInFlight, now);
        TaskCompletionSource cancelled = Cancelled(endpoint);
        using CancellationTokenRegistration registration = cancellationToken.Register(() => cancelled.TrySetResult());
        try
        {
            if (PodAt(endpoint).Behavior != PodBehavior.Hang)
            {
                await _answersWaitFor.WaitAsync(Generous, cancellationToken);
            }

            using HttpResponseMessage response = await _http.GetAsync($"http://{endpoint.Key}/fan", cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new HttpRequestException($"HTTP {(int)response.StatusCode}", null, response.StatusCode);
            }

            return (int)response.StatusCode;
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    /// <summary>Waits until every pod has received its request; if one never does, says how far each pod and the fan-out got.</summary>
    private async Task CalledAsync(Task<FanOutResult<int>> fanOut)
    {
        try
        {
            await Task.WhenAll(_pods.Pods.Select(p => p.WaitForRequestsAsync(1))).WaitAsync(Generous);
        }
        catch (TimeoutException)
        {
            string pods = string.Join("; ", _pods.Pods.Select(p => $"{p}: {p.AcceptedConnections} accepted, {p.OpenConnections} open, {p.RequestCount} requests, call cancelled {_cancelled.ContainsKey(new PodEndpoint(p.Address, p.Port))}"));
            string outcome = fanOut.Status == TaskStatus.RanToCompletion
                ? string.Join("; ", fanOut.Result.Results)
                : fanOut.Status.ToString();
            Assert.Fail($"Not every pod received its request within {Generous}. Pods: {pods}. Fan-out: {outcome}. Thread pool: {ThreadPool.ThreadCount} threads, {ThreadPool.PendingWorkItemCount} pending.");
        }
    }

    private static FanOutPodResult<int> ResultOf(FanOutResult<int> result, LoopbackPod pod) =>
        result.Results.Single(r => r.Endpoint.Address.Equals(pod.Address));

    [Fact]
    public async Task All_reports_each_pods_true_outcome_and_feeds_passive_health()
    {
        FakeHeadlessService service = await PodsAsync(
            PodBehavior.Healthy, PodBehavior.Status(500), PodBehavior.Slow(TimeSpan.FromMilliseconds(50)), PodBehavior.Hang, PodBehavior.Healthy);
        await _pods.Pods[4].StopAsync();

        FanOutResult<int> result = await service.FanOutAsync(GetAsync, new FanOutOptions { PerPodTimeout = TimeSpan.FromSeconds(3) }).WaitAsync(Generous);

        Assert.Equal(5, result.Results.Length);
        Assert.Equal(FanOutPodStatus.Succeeded, ResultOf(result, _pods.Pods[0]).Status);
        Assert.Equal(200, ResultOf(result, _pods.Pods[0]).Value);
        FanOutPodResult<int> error = ResultOf(result, _pods.Pods[1]);
        Assert.Equal(FanOutPodStatus.Failed, error.Status);
        Assert.Equal(HttpStatusCode.InternalServerError, Assert.IsType<HttpRequestException>(error.Exception).StatusCode);
        Assert.Equal(FanOutPodStatus.Succeeded, ResultOf(result, _pods.Pods[2]).Status);
        Assert.Equal(FanOutPodStatus.TimedOut, ResultOf(result, _pods.Pods[3]).Status);
        FanOutPodResult<int> stopped = ResultOf(result, _pods.Pods[4]);
        Assert.Equal(FanOutPodStatus.Failed, stopped.Status);
        Assert.IsType<HttpRequestException>(stopped.Exception);

        Assert.Equal(2, result.Succeeded);
        Assert.Equal(3, result.Failed);
        Assert.False(result.GoalMet);
        Assert.False(result.DeadlineExceeded);
        Assert.All(result.Results, r => Assert.True(r.Latency > TimeSpan.Zero));

        Assert.Equal(5, service.Outcomes.Count);
        Assert.Equal(2, service.Outcomes.Count(o => o.Succeeded));
    }

    [Fact]
    public async Task All_meets_its_goal_when_every_pod_succeeds()
    {
        FakeHeadlessService service = await PodsAsync(PodBehavior.Healthy, PodBehavior.Healthy, PodBehavior.Healthy);
        FanOutResult<int> result = await service.FanOutAsync(GetAsync).WaitAsync(Generous);
        Assert.True(result.GoalMet);
        Assert.Equal([200, 200, 200], result.Results.Where(r => r.Succeeded).Select(r => r.Value));
    }

    [Fact]
    public async Task Quorum_completes_once_k_succeed_and_cancels_the_rest()
    {
        FakeHeadlessService service = await PodsAsync(PodBehavior.Healthy, PodBehavior.Hang, PodBehavior.Healthy, PodBehavior.Hang);
        AnswerOnlyOnceTheHangingPodsAreCalled();

        // No timeout of any kind: only the quorum rule can end this fan-out.
        FanOutResult<int> result = await service.FanOutAsync(GetAsync, new FanOutOptions { Mode = FanOutMode.Quorum(2) }).WaitAsync(Generous);

        Assert.True(result.GoalMet);
        Assert.Equal(2, result.Succeeded);
        foreach (LoopbackPod hung in new[] { _pods.Pods[1], _pods.Pods[3] })
        {
            Assert.Equal(FanOutPodStatus.Cancelled, ResultOf(result, hung).Status);
            await CancelledAsync(ResultOf(result, hung).Endpoint);
        }

        Assert.DoesNotContain(service.Outcomes, o => !o.Succeeded);
    }

    [Fact]
    public async Task Quorum_fails_fast_once_k_is_out_of_reach()
    {
        FakeHeadlessService service = await PodsAsync(PodBehavior.Status(500), PodBehavior.Hang, PodBehavior.Status(503), PodBehavior.Healthy);
        AnswerOnlyOnceTheHangingPodsAreCalled();

        // 3 of 4 needed; two failures make it unreachable while the hung pod would never answer.
        FanOutResult<int> result = await service.FanOutAsync(GetAsync, new FanOutOptions { Mode = FanOutMode.Quorum(3) }).WaitAsync(Generous);

        Assert.False(result.GoalMet);
        Assert.Equal(2, result.Results.Count(r => r.Status == FanOutPodStatus.Failed));
        Assert.Equal(FanOutPodStatus.Cancelled, ResultOf(result, _pods.Pods[1]).Status);
        await CancelledAsync(ResultOf(result, _pods.Pods[1]).Endpoint);
    }

    [Fact]
    public async Task Quorum_larger_than_the_pod_count_fails_without_calling_anyone()
    {
        FakeHeadlessService service = await PodsAsync(PodBehavior.Healthy, PodBehavior.Healthy);
        FanOutResult<int> result = await service.FanOutAsync(GetAsync, new FanOutOptions { Mode = FanOutMode.Quorum(3) }).WaitAsync(Generous);
        Assert.False(result.GoalMet);
        Assert.All(result.Results, r => Assert.Equal(FanOutPodStatus.Skipped, r.Status));
        Assert.All(_pods.Pods, p => Assert.Equal(0, p.RequestCount));
    }

    [Fact]
    public async Task First_success_hedges_after_each_failure_one_call_at_a_time()
    {
        FakeHeadlessService service = await PodsAsync(PodBehavior.Status(500), PodBehavior.Status(500), PodBehavior.Healthy, PodBehavior.Status(500));

        FanOutResult<int> result = await service.FanOutAsync(
            GetAsync,
            new FanOutOptions { Mode = FanOutMode.FirstSuccess(Timeout.InfiniteTimeSpan) }).WaitAsync(Generous);

        Assert.True(result.GoalMet);
        Assert.Equal(1, result.Succeeded);
        Assert.Equal(1, Volatile.Read(ref _maxInFlight));
        Assert.Equal(FanOutPodStatus.Succeeded, ResultOf(result, _pods.Pods[2]).Status);
        // Pods after the winner in the (random) start order were never called.
        Assert.Equal(result.Results.Count(r => r.Status == FanOutPodStatus.Skipped), _pods.Pods.Count(p => p.RequestCount == 0));
    }

    [Fact]
    public async Task First_success_hedges_after_a_delay_past_hanging_pods_and_cancels_them()
    {
        FakeHeadlessService service = await PodsAsync(PodBehavior.Hang, PodBehavior.Hang, PodBehavior.Healthy, PodBehavior.Hang);

        // No timeout: only hedging past the hung pods can find the healthy one.
        FanOutResult<int> result = await service.FanOutAsync(
            GetAsync,
            new FanOutOptions { Mode = FanOutMode.FirstSuccess(TimeSpan.FromMilliseconds(20)) }).WaitAsync(Generous);

        Assert.True(result.GoalMet);
        Assert.Equal(FanOutPodStatus.Succeeded, ResultOf(result, _pods.Pods[2]).Status);
        foreach (FanOutPodResult<int> hung in result.Results.Where(r => r.Status == FanOutPodStatus.Cancelled))
        {
            await CancelledAsync(hung.Endpoint);
        }

        Assert.All(result.Results.Where(r => !r.Succeeded), r => Assert.Contains(r.Status, new[] { FanOutPodStatus.Cancelled, FanOutPodStatus.Skipped }));
    }

    [Fact]
    public async Task First_success_fails_when_every_pod_fails()
    {
        FakeHeadlessService service = await PodsAsync(PodBehavior.Status(500), PodBehavior.Status(502));
        FanOutResult<int> result = await service.FanOutAsync(GetAsync, new FanOutOptions { Mode = FanOutMode.FirstSuccess() }).WaitAsync(Generous);
        Assert.False(result.GoalMet);
        Assert.Equal(2, result.Failed);
    }

    [Fact]
    public async Task Parallelism_is_bounded()
    {
        FakeHeadlessService service = await PodsAsync([.. Enumerable.Repeat(PodBehavior.Slow(TimeSpan.FromMilliseconds(30)), 9)]);

        FanOutResult<int> result = await service.FanOutAsync(GetAsync, new FanOutOptions { MaxParallelism = 3 }).WaitAsync(Generous);

        Assert.True(result.GoalMet);
        Assert.Equal(9, result.Succeeded);
        Assert.InRange(Volatile.Read(ref _maxInFlight), 1, 3);
    }

    [Fact]
    public async Task The_deadline_returns_a_result_with_calls_in_flight_timed_out_and_the_rest_skipped()
    {
        FakeHeadlessService service = await PodsAsync(PodBehavior.Healthy, PodBehavior.Hang, PodBehavior.Hang, PodBehavior.Healthy);

        FanOutResult<int> result = await service.FanOutAsync(
            GetAsync,
            // The deadline must comfortably outlast the healthy pod's answer on a loaded machine; the hanging pods
            // never answer, so they are the ones it catches.
            new FanOutOptions { MaxParallelism = 2, Deadline = TimeSpan.FromSeconds(3) }).WaitAsync(Generous);

        Assert.True(result.DeadlineExceeded);
        Assert.False(result.GoalMet);
        Assert.Equal(FanOutPodStatus.Succeeded, ResultOf(result, _pods.Pods[0]).Status);
        Assert.Equal(FanOutPodStatus.TimedOut, ResultOf(result, _pods.Pods[1]).Status);
        Assert.Equal(FanOutPodStatus.TimedOut, ResultOf(result, _pods.Pods[2]).Status);
        Assert.Equal(FanOutPodStatus.Skipped, ResultOf(result, _pods.Pods[3]).Status);
        Assert.Equal(0, _pods.Pods[3].RequestCount);
    }

    [Fact]
    public async Task Caller_cancellation_cancels_the_calls_and_throws()
    {
        FakeHeadlessService service = await PodsAsync(PodBehavior.Hang, PodBehavior.Hang);
        using var cts = new CancellationTokenSource();
        Task<FanOutResult<int>> fanOut = service.FanOutAsync(GetAsync, null, cts.Token);
        await CalledAsync(fanOut);

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => fanOut.WaitAsync(Generous));
        await Task.WhenAll(_cancelled.Values.Select(c => c.Task)).WaitAsync(Generous);
        Assert.Equal(2, _cancelled.Count);
        Assert.Empty(service.Outcomes);
    }

    [Fact]
    public async Task Unhealthy_pods_are_skipped_unless_included()
    {
        await PodsAsync(PodBehavior.Healthy, PodBehavior.Healthy, PodBehavior.Healthy);
        var service = new FakeHeadlessService();
        PodEndpoint sick = new(_pods.Pods[1].Address, _pods.Pods[1].Port);
        service.Publish(_pods.Pods.Select(p => new PodEndpoint(p.Address, p.Port)).Select(e => (e, e == sick ? EndpointHealth.Unhealthy : EndpointHealth.Healthy, false)));

        FanOutResult<int> healthyOnly = await service.FanOutAsync(GetAsync).WaitAsync(Generous);
        Assert.True(healthyOnly.GoalMet);
        Assert.Equal(FanOutPodStatus.Skipped, healthyOnly.Results.Single(r => r.Endpoint == sick).Status);
        Assert.Equal(0, _pods.Pods[1].RequestCount);

        FanOutResult<int> everyone = await service.FanOutAsync(GetAsync, new FanOutOptions { IncludeUnhealthy = true }).WaitAsync(Generous);
        Assert.Equal(3, everyone.Succeeded);
        Assert.Equal(1, _pods.Pods[1].RequestCount);
    }

    [Fact]
    public async Task A_polly_pipeline_wraps_each_pod_call()
    {
        FakeHeadlessService service = await PodsAsync(PodBehavior.Healthy, PodBehavior.Healthy);
        var attempts = new ConcurrentDictionary<PodEndpoint, int>();
        ResiliencePipeline retry = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions { MaxRetryAttempts = 2, Delay = TimeSpan.Zero, ShouldHandle = new PredicateBuilder().Handle<InvalidOperationException>() })
            .Build();

        FanOutResult<int> result = await service.FanOutAsync(
            async (endpoint, ct) =>
            {
                // The first attempt on each pod fails; the retry succeeds.
                if (attempts.AddOrUpdate(endpoint, 1, (_, n) => n + 1) == 1)
                {
                    throw new InvalidOperationException("flaky");
                }

                return await GetAsync(endpoint, ct);
            },
            new FanOutOptions { Pipeline = retry }).WaitAsync(Generous);

        Assert.True(result.GoalMet);
        Assert.All(attempts.Values, n => Assert.Equal(2, n));
    }

    [Fact]
    public async Task Options_are_validated_with_messages_naming_the_option()
    {
        var service = new FakeHeadlessService(TestPods.Pods(1));
        static ValueTask<int> Op(PodEndpoint e, CancellationToken ct) => new(1);

        var parallelism = await Assert.ThrowsAsync<InvalidOptionsException>(() => service.FanOutAsync(Op, new FanOutOptions { MaxParallelism = 0 }));
        Assert.Contains("MaxParallelism: ", parallelism.Message, StringComparison.Ordinal);
        var timeout = await Assert.ThrowsAsync<InvalidOptionsException>(() => service.FanOutAsync(Op, new FanOutOptions { PerPodTimeout = TimeSpan.Zero }));
        Assert.Contains("PerPodTimeout: ", timeout.Message, StringComparison.Ordinal);
        var deadline = await Assert.ThrowsAsync<InvalidOptionsException>(() => service.FanOutAsync(Op, new FanOutOptions { Deadline = TimeSpan.FromSeconds(-1) }));
        Assert.Contains("Deadline: ", deadline.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => FanOutMode.Quorum(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => FanOutMode.FirstSuccess(TimeSpan.Zero));
    }

    [Theory]
    [InlineData("all", "all")]
    [InlineData("QUORUM:2", "quorum:2")]
    [InlineData("first", "first")]
    [InlineData("first:250", "first")]
    public void Modes_parse_and_print(string text, string printed)
    {
        Assert.True(FanOutMode.TryParse(text, out FanOutMode? mode));
        Assert.Equal(printed, mode.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("quorum:0")]
    [InlineData("quorum:")]
    [InlineData("some")]
    public void Bad_modes_do_not_parse(string text) => Assert.False(FanOutMode.TryParse(text, out _));

    [Fact]
    public async Task Synchronous_operations_and_an_empty_service_work()
    {
        var service = new FakeHeadlessService(TestPods.Pods(100));
        FanOutResult<int> all = await service.FanOutAsync((e, _) => new ValueTask<int>(e.Port)).WaitAsync(Generous);
        Assert.True(all.GoalMet);
        Assert.Equal(100, all.Succeeded);

        var empty = new FakeHeadlessService();
        empty.Publish([]);
        FanOutResult<int> none = await empty.FanOutAsync((e, _) => new ValueTask<int>(1)).WaitAsync(Generous);
        Assert.False(none.GoalMet);
        Assert.Empty(none.Results);
    }

    [Fact]
    public async Task End_to_end_through_real_dns()
    {
        const string Name = "fan.default.svc.cluster.local";
        await using EmbeddedDnsServer dns = await EmbeddedDnsServer.StartAsync();
        await PodsAsync(PodBehavior.Healthy, PodBehavior.Status(500), PodBehavior.Healthy);
        _pods.SyncToDns(dns, Name);
        var options = new HeadlessServiceOptions { Name = Name, Port = _pods.Port };
        options.DnsServers.Add(dns.NameServer);
        await using var service = new HeadlessService(options);

        FanOutResult<int> result = await service.FanOutAsync(GetAsync, new FanOutOptions { Mode = FanOutMode.Quorum(2) }).WaitAsync(Generous);

        Assert.True(result.GoalMet);
        Assert.Equal(3, result.Snapshot.Count);
    }
}
