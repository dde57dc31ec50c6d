using System.Net;
using System.Text.Json;
using Headless.Discovery.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Polly;

namespace Headless.Discovery.Http.Tests;

/// <summary>The HttpClient handler against real loopback HTTP pods, published by a <see cref="FakeHeadlessService"/>.</summary>
public sealed class HttpHandlerTests : IAsyncLifetime
{
    private const string Name = "backend.shop.svc.cluster.local";
    private LoopbackPodSet _pods = null!;
    private FakeHeadlessService _service = null!;
    private ServiceProvider? _provider;

    private (PodEndpoint Pod, bool Succeeded)[] Outcomes => [.. _service.Outcomes.Select(o => (o.Endpoint, o.Succeeded))];

    public async Task InitializeAsync()
    {
        _pods = await LoopbackPodSet.StartAsync(3, 0, "web");
    }

    public async Task DisposeAsync()
    {
        if (_provider is not null)
        {
            await _provider.DisposeAsync();
        }

        await _pods.DisposeAsync();
    }

    private HttpClient Client(Action<IHttpClientBuilder>? configure = null, Action<HeadlessServiceHttpOptions>? http = null, string? name = null)
    {
        var services = new ServiceCollection();

        // The handler uses the keyed service and selector: the fake publishes the pods and records every outcome.
        _service = new FakeHeadlessService(ServiceName.Parse(name ?? Name));
        _service.Publish(name is null ? _pods.Pods.Select(p => new PodEndpoint(p.Address, p.Port)) : []);
        services.AddKeyedSingleton<IHeadlessService>("backend", _service);
        services.AddKeyedSingleton("backend", (sp, _) => EndpointSelectors.RoundRobin(sp.GetRequiredKeyedService<IHeadlessService>("backend")));
        IHttpClientBuilder builder = services.AddHttpClient("backend", c => c.BaseAddress = new Uri("http://backend/"));
        configure?.Invoke(builder);
        builder.AddHeadlessServiceEndpoints("backend", http);
        _provider = services.BuildServiceProvider();

        return _provider.GetRequiredService<IHttpClientFactory>().CreateClient("backend");
    }

    private static async Task<string> PodNameAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("pod").GetString()!;

    [Fact]
    public async Task Requests_spread_over_every_pod_and_each_outcome_is_reported()
    {
        HttpClient client = Client();
        var answered = new Dictionary<string, int>();
        for (int i = 0; i < 30; i++)
        {
            using HttpResponseMessage response = await client.GetAsync("/hello?x=1").WaitAsync(Generous);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            string pod = await PodNameAsync(response);
            answered[pod] = answered.GetValueOrDefault(pod) + 1;

            // The request keeps naming the service; the pod it went to is in Options.
            Assert.Equal(new Uri("http://backend/hello?x=1"), response.RequestMessage!.RequestUri);
            Assert.True(response.RequestMessage.Options.TryGetValue(HeadlessServiceHttpOptions.PodEndpointKey, out PodEndpoint? endpoint));
            Assert.Equal(_pods.Pods.Single(p => p.Name == pod).Address, endpoint.Address);
        }

        Assert.Equal(_pods.Pods.Select(p => p.Name).Order(), answered.Keys.Order());
        Assert.Equal(30, Outcomes.Length);
        Assert.All(Outcomes, o => Assert.True(o.Succeeded));
        Assert.Equal(30, _pods.Pods.Sum(p => p.RequestCount));
    }

    [Fact]
    public async Task Sequential_requests_rotate_over_the_pods_exactly()
    {
        // Each await may resume on another thread; the rotation belongs to the selector, not to a thread.
        HttpClient client = Client();
        var order = new List<string>();
        for (int i = 0; i < 12; i++)
        {
            using HttpResponseMessage response = await client.GetAsync("/hello").WaitAsync(Generous);
            order.Add(await PodNameAsync(response));
        }

        Assert.Equal(3, order.Take(3).Distinct().Count());
        for (int i = 3; i < order.Count; i++)
        {
            Assert.True(order[i] == order[i - 3], $"request {i} went to {order[i]}: {string.Join(" ", order)}");
        }
    }

    [Fact]
    public async Task A_5xx_and_a_connection_failure_are_reported_as_failures()
    {
        await _pods.ScaleAsync(1);
        LoopbackPod pod = _pods.Pods[0];
        pod.Behavior = PodBehavior.Status(503);
        HttpClient client = Client();

        using (HttpResponseMessage response = await client.GetAsync("/").WaitAsync(Generous))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        }

        pod.Behavior = PodBehavior.Reset;
        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync("/").WaitAsync(Generous));

        Assert.Equal([(pod.Address, false), (pod.Address, false)], Outcomes.Select(o => (o.Pod.Address, o.Succeeded)));

        // Neither a 5xx nor a reset says the pod left: no early refresh.
        Assert.Equal(0, _service.RefreshRequests);
    }

    [Fact]
    public async Task A_refused_connection_is_a_failure_and_asks_for_an_early_refresh()
    {
        await _pods.ScaleAsync(1);
        LoopbackPod pod = _pods.Pods[0];
        HttpClient client = Client();
        await pod.StopAsync();

        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync("/").WaitAsync(Generous));

        Assert.Equal([(pod.Address, false)], Outcomes.Select(o => (o.Pod.Address, o.Succeeded)));
        Assert.Equal(1, _service.RefreshRequests);
    }

    [Fact]
    public async Task No_pod_available_fails_with_a_transient_HttpRequestException()
    {
        HttpClient client = Client(name: "nothing.shop.svc.cluster.local");

        var ex = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync("/").WaitAsync(Generous));
        Assert.Equal(HttpRequestError.ConnectionError, ex.HttpRequestError);
        Assert.IsType<NoEndpointAvailableException>(ex.InnerException);
        Assert.Contains("nothing.shop.svc.cluster.local", ex.Message, StringComparison.Ordinal);
        Assert.Empty(Outcomes);
    }

    [Fact]
    public async Task Cancellation_ends_the_request_without_blaming_the_pod()
    {
        foreach (LoopbackPod p in _pods.Pods)
        {
            p.Behavior = PodBehavior.Hang;
        }

        HttpClient client = Client();
        using var cts = new CancellationTokenSource();
        Task<HttpResponseMessage> request = client.GetAsync("/", cts.Token);

        // Cancel once a pod has the request (a signal from the pod, not a sleep).
        await Task.WhenAny(_pods.Pods.Select(p => p.WaitForRequestsAsync(1))).Unwrap().WaitAsync(Generous);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request.WaitAsync(Generous));
        Assert.Empty(Outcomes);
    }

    [Fact]
    public async Task With_a_resilience_retry_a_failing_pod_is_retried_on_another_pod()
    {
        await _pods.ScaleAsync(2);
        LoopbackPod bad = _pods.Pods[0];
        LoopbackPod good = _pods.Pods[1];
        bad.Behavior = PodBehavior.Status(500);

        // Added before the discovery handler on purpose: ours is still the innermost one.
        HttpClient client = Client(b => b.AddResilienceHandler("retry", p => p.AddRetry(new HttpRetryStrategyOptions
        {
            MaxRetryAttempts = 3,
            Delay = TimeSpan.Zero,
            BackoffType = DelayBackoffType.Constant,
            UseJitter = false,
        })));

        for (int i = 0; i < 10; i++)
        {
            using HttpResponseMessage response = await client.GetAsync("/").WaitAsync(Generous);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(good.Name, await PodNameAsync(response));
        }

        Assert.True(bad.RequestCount > 0, "the failing pod was never picked");
        Assert.Equal(10, good.RequestCount);
        Assert.All(Outcomes.Where(o => o.Pod.Address.Equals(bad.Address)), o => Assert.False(o.Succeeded));
    }

    [Fact]
    public async Task Requests_to_other_hosts_pass_through()
    {
        HttpClient client = Client();
        LoopbackPod pod = _pods.Pods[2];
        using HttpResponseMessage response = await client.GetAsync(new Uri($"http://{pod.Address}:{pod.Port}/direct")).WaitAsync(Generous);
        Assert.Equal(pod.Name, await PodNameAsync(response));
        Assert.Empty(Outcomes);
    }
}
