using System.Text.Json;
using Headless.Discovery.Testing;

namespace Headless.Discovery.Cli.Tests;

/// <summary><c>fanout</c> end to end: the embedded DNS server on loopback, real loopback HTTP pods.</summary>
public sealed class FanOutCommandTests : IAsyncLifetime
{
    private const string Name = "web.default.svc.cluster.local";
    private EmbeddedDnsServer _dns = null!;
    private LoopbackPodSet _pods = null!;

    public async Task InitializeAsync()
    {
        _dns = await EmbeddedDnsServer.StartAsync();

        // web-0 healthy, web-1 answers 500, web-2 stopped (connection refused), web-3 healthy.
        _pods = await LoopbackPodSet.StartAsync(4, namePrefix: "web");
        _pods.Pods[1].Behavior = PodBehavior.Status(500);
        _pods.SyncToDns(_dns, Name);
        await _pods.Pods[2].StopAsync();
    }

    public async Task DisposeAsync()
    {
        await _pods.DisposeAsync();
        await _dns.DisposeAsync();
    }

    private static CliHarness Cli() => new()
    {
        Services = new CliServices
        {
            Qualify = name => ServiceName.Qualify(name, CliHarness.TestEnvironment),
            CreateResolver = CliServices.Default.CreateResolver,
            CreateService = CliServices.Default.CreateService,
        },
    };

    private string[] Args(params string[] extra) =>
        ["fanout", "web", "--dns-server", _dns.NameServer, "--port", _pods.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--http", "/healthz", .. extra];

    private static JsonElement ResultOf(JsonDocument doc, LoopbackPod pod) =>
        doc.RootElement.GetProperty("results").EnumerateArray().Single(r => r.GetProperty("address").GetString() == pod.Address.ToString());

    [Fact]
    public async Task Json_reports_each_pods_true_outcome_and_exits_5_when_not_all_succeed()
    {
        CliHarness cli = Cli();

        int exitCode = await cli.RunAsync(Args("--json", "--per-pod-timeout", "5s"));

        Assert.Equal(ExitCodes.GoalNotMet, exitCode);
        string line = Assert.Single(cli.Stdout.Lines);
        using JsonDocument doc = JsonDocument.Parse(line);
        JsonElement root = doc.RootElement;
        Assert.Equal(["service", "mode", "succeeded", "failed", "results"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(Name, root.GetProperty("service").GetString());
        Assert.Equal("all", root.GetProperty("mode").GetString());
        Assert.Equal(2, root.GetProperty("succeeded").GetInt32());
        Assert.Equal(2, root.GetProperty("failed").GetInt32());

        JsonElement[] results = [.. root.GetProperty("results").EnumerateArray()];
        Assert.Equal(4, results.Length);
        Assert.All(results, r => Assert.Equal(
            ["address", "port", "status", "httpStatus", "latencyMs", "error"],
            r.EnumerateObject().Select(p => p.Name)));
        Assert.All(results, r => Assert.Equal(_pods.Port, r.GetProperty("port").GetInt32()));
        Assert.All(results, r => Assert.True(r.GetProperty("latencyMs").GetDouble() >= 0));

        JsonElement healthy = ResultOf(doc, _pods.Pods[0]);
        Assert.Equal("ok", healthy.GetProperty("status").GetString());
        Assert.Equal(200, healthy.GetProperty("httpStatus").GetInt32());
        Assert.Equal(JsonValueKind.Null, healthy.GetProperty("error").ValueKind);

        JsonElement error = ResultOf(doc, _pods.Pods[1]);
        Assert.Equal("failed", error.GetProperty("status").GetString());
        Assert.Equal(500, error.GetProperty("httpStatus").GetInt32());
        Assert.Contains("500", error.GetProperty("error").GetString(), StringComparison.Ordinal);

        JsonElement stopped = ResultOf(doc, _pods.Pods[2]);
        Assert.Equal("failed", stopped.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, stopped.GetProperty("httpStatus").ValueKind);
        Assert.Contains("refused", stopped.GetProperty("error").GetString(), StringComparison.OrdinalIgnoreCase);

        Assert.Equal("ok", ResultOf(doc, _pods.Pods[3]).GetProperty("status").GetString());
        Assert.Equal(1, _pods.Pods[0].RequestCount);
        Assert.Equal(1, _pods.Pods[1].RequestCount);
    }

    [Fact]
    public async Task Quorum_of_two_exits_0_with_two_healthy_pods()
    {
        CliHarness cli = Cli();

        int exitCode = await cli.RunAsync(Args("--mode", "quorum:2", "--json"));

        Assert.Equal(ExitCodes.Ok, exitCode);
        using JsonDocument doc = JsonDocument.Parse(Assert.Single(cli.Stdout.Lines));
        Assert.Equal("quorum:2", doc.RootElement.GetProperty("mode").GetString());
        Assert.Equal(2, doc.RootElement.GetProperty("succeeded").GetInt32());
    }

    [Fact]
    public async Task Quorum_of_three_exits_5()
    {
        CliHarness cli = Cli();
        Assert.Equal(ExitCodes.GoalNotMet, await cli.RunAsync(Args("--mode", "quorum:3", "--json")));
    }

    [Fact]
    public async Task A_quorum_larger_than_the_service_calls_no_pod_and_says_why()
    {
        CliHarness cli = Cli();
        int pods = _pods.Pods.Count;

        Assert.Equal(ExitCodes.GoalNotMet, await cli.RunAsync(Args("--mode", "quorum:9", "--json")));
        using JsonDocument doc = JsonDocument.Parse(Assert.Single(cli.Stdout.Lines));
        string reason = $"not called: quorum:9 cannot be met by the service's {pods} pod(s)";
        Assert.All(doc.RootElement.GetProperty("results").EnumerateArray(), r =>
        {
            Assert.Equal("skipped", r.GetProperty("status").GetString());
            Assert.Equal(reason, r.GetProperty("error").GetString());
        });
        Assert.All(_pods.Pods, p => Assert.Equal(0, p.RequestCount));

        CliHarness text = Cli();
        await text.RunAsync(Args("--mode", "quorum:9"));
        Assert.EndsWith($"goal NOT met: {reason}", text.Stdout.Lines[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task First_exits_0_on_the_first_healthy_answer()
    {
        CliHarness cli = Cli();
        Assert.Equal(ExitCodes.Ok, await cli.RunAsync(Args("--mode", "first", "--json")));
        using JsonDocument doc = JsonDocument.Parse(Assert.Single(cli.Stdout.Lines));
        Assert.Equal(1, doc.RootElement.GetProperty("succeeded").GetInt32());
    }

    [Fact]
    public async Task A_hanging_pod_times_out()
    {
        _pods.Pods[3].Behavior = PodBehavior.Hang;
        CliHarness cli = Cli();

        int exitCode = await cli.RunAsync(Args("--json", "--per-pod-timeout", "300ms", "--max-parallelism", "2"));

        Assert.Equal(ExitCodes.GoalNotMet, exitCode);
        using JsonDocument doc = JsonDocument.Parse(Assert.Single(cli.Stdout.Lines));
        JsonElement hung = ResultOf(doc, _pods.Pods[3]);
        Assert.Equal("timeout", hung.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, hung.GetProperty("httpStatus").ValueKind);
    }

    [Fact]
    public async Task Text_output_has_a_summary_and_one_line_per_pod()
    {
        CliHarness cli = Cli();

        int exitCode = await cli.RunAsync(Args());

        Assert.Equal(ExitCodes.GoalNotMet, exitCode);
        Assert.Equal(5, cli.Stdout.Lines.Count);
        Assert.StartsWith($"{Name}: all: 2 ok, 2 failed of 4 pod(s); goal NOT met", cli.Stdout.Lines[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Nxdomain_exits_2_and_dns_failure_exits_3()
    {
        CliHarness missing = Cli();
        Assert.Equal(ExitCodes.NotFound, await missing.RunAsync("fanout", "missing", "--dns-server", _dns.NameServer, "--port", "80", "--http", "/", "--json"));
        Assert.Empty(missing.Stdout.Lines);

        _dns.InjectFault(DnsFault.ServerFailure);
        CliHarness failing = Cli();
        Assert.Equal(ExitCodes.DnsFailure, await failing.RunAsync(Args("--dns-retry-count", "0", "--dns-attempt-timeout", "500ms")));
        Assert.Contains("DNS lookup failed", failing.Stderr.Text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--mode", "most")]
    [InlineData("--mode", "quorum:0")]
    [InlineData("--max-parallelism", "0")]
    [InlineData("--per-pod-timeout", "soon")]
    public async Task Bad_options_are_usage_errors(string option, string value)
    {
        CliHarness cli = Cli();
        Assert.Equal(ExitCodes.Usage, await cli.RunAsync(Args(option, value)));
        Assert.Contains(option, cli.Stderr.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_path_is_required_and_must_be_a_path()
    {
        CliHarness cli = Cli();
        Assert.Equal(ExitCodes.Usage, await cli.RunAsync("fanout", "web", "--dns-server", _dns.NameServer));
        CliHarness bad = Cli();
        Assert.Equal(ExitCodes.Usage, await bad.RunAsync("fanout", "web", "--http", "healthz"));
        Assert.Contains("--http", bad.Stderr.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_records_without_a_port_are_a_usage_error()
    {
        CliHarness cli = Cli();
        Assert.Equal(ExitCodes.Usage, await cli.RunAsync("fanout", "web", "--dns-server", _dns.NameServer, "--http", "/"));
        Assert.Contains("--port", cli.Stderr.Text, StringComparison.Ordinal);
    }
}
