using System.Net;
using Headless.Discovery;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Time.Testing;

namespace Headless.Discovery.HealthChecks.Tests;

public sealed class HeadlessServiceHealthCheckTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly ScriptedResolver _resolver = new(ResolutionResult.NotFound());
    private ServiceProvider? _provider;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_provider is not null)
        {
            await _provider.DisposeAsync();
        }
    }

    private HealthCheckService Build(Action<IHealthChecksBuilder> checks)
    {
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(_time);
        services.AddKeyedSingleton<IEndpointResolver>("backend", _resolver);
        services.AddHeadlessService("backend", o =>
        {
            o.Name = "web.shop.svc.cluster.local";
            o.EmptyAnswerConfirmations = 1;
        });
        checks(services.AddHealthChecks());
        services.AddLogging();
        _provider = services.BuildServiceProvider();
        return _provider.GetRequiredService<HealthCheckService>();
    }

    private IHeadlessService Service => _provider!.GetRequiredKeyedService<IHeadlessService>("backend");

    private static PodEndpoint[] Pods(int count) =>
        Enumerable.Range(1, count).Select(i => new PodEndpoint(IPAddress.Parse($"10.1.0.{i}"), 80)).ToArray();

    private async Task<HealthReportEntry> CheckAsync(HealthCheckService checks, string name = "headless-service:backend")
    {
        HealthReport report = await checks.CheckHealthAsync().WaitAsync(Generous);
        return report.Entries[name];
    }

    private async Task RefreshAsync() => await Service.RefreshAsync().AsTask().WaitAsync(Generous);

    [Fact]
    public async Task Nothing_resolved_yet_is_unhealthy()
    {
        HealthCheckService checks = Build(b => b.AddHeadlessServiceCheck("backend"));
        _resolver.Block();

        HealthReportEntry entry = await CheckAsync(checks);
        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.Contains("not resolved yet", entry.Description, StringComparison.Ordinal);
        Assert.Equal(0L, entry.Data["version"]);
    }

    [Fact]
    public async Task Enough_pods_is_healthy_with_counts_in_the_data()
    {
        HealthCheckService checks = Build(b => b.AddHeadlessServiceCheck("backend", minHealthy: 2));
        _resolver.Fallback = ResolutionResult.Success(Pods(3), TimeSpan.FromSeconds(5));
        await RefreshAsync();

        HealthReportEntry entry = await CheckAsync(checks);
        Assert.Equal(HealthStatus.Healthy, entry.Status);
        Assert.Equal(3, entry.Data["endpoints"]);
        Assert.Equal(3, entry.Data["usable"]);
        Assert.Equal(0, entry.Data["unhealthy"]);
        Assert.Equal(0, entry.Data["ejected"]);
        Assert.Equal(2, entry.Data["minHealthy"]);
        Assert.Equal(false, entry.Data["stale"]);
        Assert.Equal("web.shop.svc.cluster.local", entry.Data["service"]);
    }

    [Fact]
    public async Task Without_a_probe_pods_are_reported_as_not_probed_apart_from_probed_healthy_and_unavailable()
    {
        // No active probe: every pod's health is unknown. They count toward MinHealthy by default, and the check says
        // what it knows: the pods resolve, none has been probed.
        HealthCheckService checks = Build(b => b.AddHeadlessServiceCheck("backend", minHealthy: 2));
        _resolver.Fallback = ResolutionResult.Success(Pods(3), TimeSpan.FromSeconds(5));
        await RefreshAsync();

        HealthReportEntry entry = await CheckAsync(checks);
        Assert.Equal(HealthStatus.Healthy, entry.Status);
        Assert.Equal(0, entry.Data["healthy"]);
        Assert.Equal(3, entry.Data["unknown"]);
        Assert.Equal(0, entry.Data["unavailable"]);
        Assert.Contains("3 of 3 pod(s) usable (probed healthy 0, not probed 3, unavailable 0: unhealthy 0, ejected 0)", entry.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_unknown_pods_not_counted_pods_nobody_probed_do_not_make_the_check_pass()
    {
        HealthCheckService checks = Build(b => b.AddHeadlessServiceCheck("backend", minHealthy: 1, configure: o => o.CountUnknownPods = false));
        _resolver.Fallback = ResolutionResult.Success(Pods(3), TimeSpan.FromSeconds(5));
        await RefreshAsync();

        HealthReportEntry entry = await CheckAsync(checks);
        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.Equal(0, entry.Data["usable"]);
        Assert.Contains("0 of 3 pod(s) usable (probed healthy 0, not probed 3: not counted, unavailable 0: unhealthy 0, ejected 0)", entry.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Too_few_pods_reports_the_failure_status()
    {
        HealthCheckService checks = Build(b => b
            .AddHeadlessServiceCheck("backend", minHealthy: 2)
            .AddHeadlessServiceCheck("backend", minHealthy: 2, name: "soft", failureStatus: HealthStatus.Degraded));
        _resolver.Fallback = ResolutionResult.Success(Pods(1), TimeSpan.FromSeconds(5));
        await RefreshAsync();

        HealthReport report = await checks.CheckHealthAsync().WaitAsync(Generous);
        Assert.Equal(HealthStatus.Unhealthy, report.Entries["headless-service:backend"].Status);
        Assert.Contains("1 of 1 pod(s) usable", report.Entries["headless-service:backend"].Description, StringComparison.Ordinal);
        Assert.Equal(HealthStatus.Degraded, report.Entries["soft"].Status);

        _resolver.Fallback = ResolutionResult.NotFound();
        await RefreshAsync();
        Assert.Equal(HealthStatus.Unhealthy, (await CheckAsync(checks)).Status);
    }

    [Fact]
    public async Task A_stale_set_is_degraded_then_unhealthy_past_MaxStaleAge()
    {
        HealthCheckService checks = Build(b => b.AddHeadlessServiceCheck("backend", configure: o => o.MaxStaleAge = TimeSpan.FromMinutes(1)));
        _resolver.Fallback = ResolutionResult.Success(Pods(2), TimeSpan.FromSeconds(5));
        await RefreshAsync();

        _resolver.Fallback = ResolutionResult.Failed(new InvalidOperationException("dns down"));
        await RefreshAsync();
        _time.Advance(TimeSpan.FromSeconds(30));

        HealthReportEntry degraded = await CheckAsync(checks);
        Assert.Equal(HealthStatus.Degraded, degraded.Status);
        Assert.Equal(true, degraded.Data["stale"]);
        Assert.Equal(30d, degraded.Data["staleForSeconds"]);
        Assert.Equal("dns down", degraded.Data["lastError"]);

        _time.Advance(TimeSpan.FromSeconds(31));
        HealthReportEntry unhealthy = await CheckAsync(checks);
        Assert.Equal(HealthStatus.Unhealthy, unhealthy.Status);
        Assert.Contains("MaxStaleAge", unhealthy.Description, StringComparison.Ordinal);

        _resolver.Fallback = ResolutionResult.Success(Pods(2), TimeSpan.FromSeconds(5));
        await RefreshAsync();
        Assert.Equal(HealthStatus.Healthy, (await CheckAsync(checks)).Status);
    }

    [Fact]
    public async Task MinHealthy_zero_passes_with_no_pods()
    {
        HealthCheckService checks = Build(b => b.AddHeadlessServiceCheck("backend", minHealthy: 0));
        _resolver.Fallback = ResolutionResult.NotFound();
        await RefreshAsync();
        Assert.Equal(HealthStatus.Healthy, (await CheckAsync(checks)).Status);
    }

    [Fact]
    public void Bad_thresholds_are_rejected_at_registration()
    {
        var services = new ServiceCollection();
        Assert.Throws<ArgumentException>(() => services.AddHealthChecks().AddHeadlessServiceCheck("backend", minHealthy: -1));
    }

    [Fact]
    public async Task An_unregistered_key_fails_the_check_with_its_name()
    {
        HealthCheckService checks = Build(b => b.AddHeadlessServiceCheck("nope"));
        HealthReportEntry entry = await CheckAsync(checks, "headless-service:nope");
        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.IsType<KeyNotFoundException>(entry.Exception);
    }
}
