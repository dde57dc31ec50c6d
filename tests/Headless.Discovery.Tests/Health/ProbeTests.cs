using System.Net;
using Headless.Discovery.Testing;

namespace Headless.Discovery.Tests.Health;

/// <summary>The probes against real pods on distinct loopback addresses.</summary>
public sealed class ProbeTests
{
    private static readonly TimeSpan ShortTimeout = TimeSpan.FromMilliseconds(300);

    private static PodEndpoint Of(LoopbackPod pod, string? hostname = null) => new(pod.Address, pod.Port, hostname);

    private static PodEndpoint Of(RawServer server, string? hostname = null) => new(server.EndPoint.Address, server.EndPoint.Port, hostname);

    [Fact]
    public async Task Tcp_probe_follows_a_pod_through_stop_and_restart()
    {
        await using LoopbackPod pod = await LoopbackPod.StartTcpAsync(LoopbackAddressPool.Next());
        var probe = new TcpConnectProbe();

        ProbeResult up = await probe.ProbeAsync(Of(pod), Generous);
        Assert.True(up.Succeeded, up.Error);
        Assert.Null(up.Error);

        await pod.StopAsync();
        ProbeResult down = await probe.ProbeAsync(Of(pod), Generous);
        Assert.False(down.Succeeded);
        Assert.Contains("ConnectionRefused", down.Error, StringComparison.Ordinal);

        await pod.StartAsync();
        ProbeResult again = await probe.ProbeAsync(Of(pod), Generous);
        Assert.True(again.Succeeded, again.Error);
    }

    [Fact]
    public async Task Probes_fail_an_endpoint_without_a_port()
    {
        var endpoint = new PodEndpoint(IPAddress.Parse("127.0.0.1"), 0);
        Assert.Contains("no port", (await new TcpConnectProbe().ProbeAsync(endpoint, Generous)).Error, StringComparison.Ordinal);
        using var http = new HttpProbe();
        Assert.Contains("no port", (await http.ProbeAsync(endpoint, Generous)).Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Http_probe_judges_the_status_and_notices_a_stopped_and_restarted_pod()
    {
        await using LoopbackPod pod = await LoopbackPod.StartHttpAsync(LoopbackAddressPool.Next());
        using var probe = new HttpProbe("/healthz?token=secret");

        Assert.True((await probe.ProbeAsync(Of(pod), Generous)).Succeeded);

        pod.Behavior = PodBehavior.Status(500);
        ProbeResult failing = await probe.ProbeAsync(Of(pod), Generous);
        Assert.False(failing.Succeeded);
        Assert.Equal("HTTP 500 is outside 200-399", failing.Error);

        pod.Behavior = PodBehavior.Status(204);
        Assert.True((await probe.ProbeAsync(Of(pod), Generous)).Succeeded);

        await pod.StopAsync();
        ProbeResult stopped = await probe.ProbeAsync(Of(pod), Generous);
        Assert.False(stopped.Succeeded);
        Assert.Contains("ConnectionRefused", stopped.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", stopped.Error, StringComparison.Ordinal);

        await pod.StartAsync();
        pod.Behavior = PodBehavior.Healthy;
        Assert.True((await probe.ProbeAsync(Of(pod), Generous)).Succeeded);
        Assert.Equal("http:/healthz", probe.ToString());
    }

    [Fact]
    public async Task Http_probe_of_a_pod_that_accepts_and_never_answers_times_out()
    {
        await using LoopbackPod pod = await LoopbackPod.StartHttpAsync(LoopbackAddressPool.Next());
        pod.Behavior = PodBehavior.Hang;
        using var probe = new HttpProbe();

        ProbeResult result = await probe.ProbeAsync(Of(pod), ShortTimeout).AsTask().WaitAsync(Generous);

        Assert.False(result.Succeeded);
        Assert.Equal("timed out after 300 ms", result.Error);
        Assert.Equal(1, pod.RequestCount);
    }

    [Fact]
    public async Task Http_probe_fails_on_a_reset_connection()
    {
        await using LoopbackPod pod = await LoopbackPod.StartHttpAsync(LoopbackAddressPool.Next());
        pod.Behavior = PodBehavior.Reset;
        using var probe = new HttpProbe();

        ProbeResult result = await probe.ProbeAsync(Of(pod), Generous);

        Assert.False(result.Succeeded);
        Assert.NotNull(result.Error);
    }

    [Fact]
    public async Task Http_probe_opens_a_fresh_connection_per_probe()
    {
        await using LoopbackPod pod = await LoopbackPod.StartHttpAsync(LoopbackAddressPool.Next());
        using var probe = new HttpProbe();
        for (int i = 0; i < 3; i++)
        {
            Assert.True((await probe.ProbeAsync(Of(pod), Generous)).Succeeded);
        }

        Assert.Equal(3, pod.AcceptedConnections);
    }

    [Fact]
    public async Task Http_probe_never_follows_a_redirect_and_judges_its_status()
    {
        await using LoopbackPod target = await LoopbackPod.StartHttpAsync(LoopbackAddressPool.Next());
        await using RawServer redirect = RawServer.Start($"HTTP/1.1 302 Found\r\nLocation: http://{target.EndPoint}/\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");

        using var lenient = new HttpProbe();
        Assert.True((await lenient.ProbeAsync(Of(redirect), Generous)).Succeeded);

        using var strict = new HttpProbe(options: new HttpProbeOptions { MaxHealthyStatus = 299 });
        ProbeResult result = await strict.ProbeAsync(Of(redirect), Generous);
        Assert.False(result.Succeeded);
        Assert.Equal("HTTP 302 is outside 200-299", result.Error);

        Assert.Equal(0, target.RequestCount);
    }

    [Fact]
    public async Task Http_probe_sends_the_pod_hostname_as_host_header_and_the_configured_path()
    {
        await using RawServer server = RawServer.Start("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        using var probe = new HttpProbe("/ready");

        ProbeResult result = await probe.ProbeAsync(Of(server, "web-0.web.default.svc.cluster.local"), Generous);

        Assert.True(result.Succeeded, result.Error);
        string head = await server.RequestHead.Task.WaitAsync(Generous);
        Assert.StartsWith("GET /ready HTTP/1.1\r\n", head, StringComparison.Ordinal);
        Assert.Contains($"Host: web-0.web.default.svc.cluster.local:{server.EndPoint.Port}\r\n", head, StringComparison.Ordinal);
        Assert.Contains("Connection: close", head, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Https_probe_uses_the_pod_hostname_as_sni()
    {
        await using RawServer server = RawServer.Start("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", tls: true);
        using var probe = new HttpProbe(useHttps: true, options: new HttpProbeOptions { AcceptAnyServerCertificate = true });

        ProbeResult result = await probe.ProbeAsync(Of(server, "web-1.web.default.svc.cluster.local"), Generous);

        Assert.True(result.Succeeded, result.Error);
        Assert.Equal("web-1.web.default.svc.cluster.local", await server.ServerName.Task.WaitAsync(Generous));
    }

    [Fact]
    public async Task Https_probe_rejects_an_untrusted_certificate_by_default()
    {
        await using RawServer server = RawServer.Start("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", tls: true);
        using var probe = new HttpProbe(useHttps: true);

        ProbeResult result = await probe.ProbeAsync(Of(server, "web-1.web.default.svc.cluster.local"), Generous);

        Assert.False(result.Succeeded);
        Assert.NotNull(result.Error);
    }

    [Fact]
    public async Task Delegate_probe_results_exceptions_and_ignored_tokens_become_results()
    {
        var endpoint = new PodEndpoint(IPAddress.Loopback, 1);
        Assert.True((await EndpointProbes.FromDelegate((_, _) => ValueTask.FromResult(ProbeResult.Healthy())).ProbeAsync(endpoint, Generous)).Succeeded);
        Assert.Equal("no", (await EndpointProbes.FromDelegate((_, _) => ValueTask.FromResult(ProbeResult.Unhealthy("no"))).ProbeAsync(endpoint, Generous)).Error);

        IEndpointProbe throwing = EndpointProbes.FromDelegate((_, _) => throw new InvalidOperationException("db down"));
        Assert.Equal("InvalidOperationException: db down", (await throwing.ProbeAsync(endpoint, Generous)).Error);

        var never = new TaskCompletionSource<ProbeResult>();
        IEndpointProbe deaf = EndpointProbes.FromDelegate((_, _) => new ValueTask<ProbeResult>(never.Task));
        ProbeResult abandoned = await deaf.ProbeAsync(endpoint, ShortTimeout).AsTask().WaitAsync(Generous);
        Assert.Equal("timed out after 300 ms", abandoned.Error);
        never.SetException(new InvalidOperationException("late"));
    }

    [Fact]
    public async Task Caller_cancellation_is_not_reported_as_a_probe_failure()
    {
        var endpoint = new PodEndpoint(IPAddress.Loopback, 1);
        var probe = new DelegateProbe(async (_, ct) =>
        {
            await Task.Delay(Timeout.Infinite, ct);
            return ProbeResult.Healthy();
        });
        using var cts = new CancellationTokenSource();
        Task<ProbeResult> running = probe.ProbeAsync(endpoint, Generous, cancellationToken: cts.Token).AsTask();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running.WaitAsync(Generous));
    }

    [Fact]
    public async Task A_probe_that_fails_with_its_own_error_after_its_timeout_reports_that_error()
    {
        // The timeout fires while the probe runs (the fake clock moves inside it); the probe then fails with its own
        // exception, not a cancellation: the result names that exception, not a timeout.
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var endpoint = new PodEndpoint(IPAddress.Loopback, 1);
        IEndpointProbe probe = EndpointProbes.FromDelegate((_, ct) =>
        {
            time.Advance(TimeSpan.FromSeconds(2));
            Assert.True(ct.IsCancellationRequested);
            throw new InvalidOperationException("driver error");
        });

        ProbeResult result = await probe.ProbeAsync(endpoint, TimeSpan.FromSeconds(1), time);
        Assert.False(result.Succeeded);
        Assert.Equal("InvalidOperationException: driver error", result.Error);
        Assert.Equal(TimeSpan.FromSeconds(2), result.Latency);
    }
}
