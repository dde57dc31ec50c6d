using Microsoft.Extensions.Logging;
using CsCheck;
using Headless.Discovery.Tests.Refresh;
using Headless.Discovery.TestSupport;

namespace Headless.Discovery.Tests.Health;

/// <summary>
/// Outlier detection by success rate and failure percentage (#13.2), beside consecutive failures: outcomes are counted
/// per pod and judged once per <see cref="PassiveHealthOptions.Interval"/>, on fake time.
/// </summary>
public sealed class OutlierDetectionTests : HealthTestBase
{
    private static readonly TimeSpan Every = TimeSpan.FromSeconds(10);

    private async Task<(HeadlessService Service, PodEndpoint[] Pods)> StartAsync(int pods, Action<PassiveHealthOptions> passive)
    {
        Resolver.Fallback = ScriptedAnswers.Ok(3600, [.. Enumerable.Range(1, pods)]);
        HeadlessService service = Create(null, o =>
        {
            o.PassiveHealth.ConsecutiveFailures = 1000;
            o.PassiveHealth.Interval = Every;
            passive(o.PassiveHealth);
        });
        EndpointSet first = await StartAndProbeAsync(service);
        return (service, [.. first.Endpoints]);
    }

    /// <summary>Reports <paramref name="successes"/> and <paramref name="failures"/> for each pod, interleaved (never five failures in a row).</summary>
    private static void Report(HeadlessService service, PodEndpoint[] pods, long[] successes, long[] failures)
    {
        for (int i = 0; i < pods.Length; i++)
        {
            long s = successes[i];
            long f = failures[i];
            while (s > 0 || f > 0)
            {
                if (f > 0 && (s == 0 || f * 2 > s))
                {
                    service.ReportOutcome(pods[i], succeeded: false);
                    f--;
                }
                else
                {
                    service.ReportOutcome(pods[i], succeeded: true);
                    s--;
                }
            }
        }
    }

    private static PodEndpoint[] Ejected(HeadlessService service) => [.. service.Current.Statuses.Where(s => s.IsEjected).Select(s => s.Endpoint)];

    [Fact]
    public async Task A_pod_far_below_the_others_success_rate_is_ejected_after_one_interval()
    {
        (HeadlessService service, PodEndpoint[] pods) = await StartAsync(6, _ => { });
        Report(service, pods, [198, 199, 200, 197, 200, 100], [2, 1, 0, 3, 0, 100]);
        Assert.Empty(Ejected(service));

        Time.Advance(Every);

        Assert.Equal([pods[5]], Ejected(service));
        Assert.Equal(1, Metrics(service).Events.GetValueOrDefault("ejected"));

        // The counts start over: the next interval, with nothing reported, ejects nobody else.
        Time.Advance(Every);
        Assert.Equal([pods[5]], Ejected(service));
    }

    [Fact]
    public async Task An_outlier_ejection_is_logged_once_with_its_reason()
    {
        using var logs = new Headless.Discovery.Tests.DependencyInjection.ListLoggerProvider();
        using var loggerFactory = Microsoft.Extensions.Logging.LoggerFactory.Create(b => b.AddProvider(logs));
        Resolver.Fallback = ScriptedAnswers.Ok(3600, 1, 2, 3, 4, 5, 6);
        var options = new HeadlessServiceOptions();
        options.PassiveHealth.Interval = Every;
        options.PassiveHealth.ConsecutiveFailures = 1000;
        await using var service = new HeadlessService(ServiceName.Parse("outlier-log.default.svc.cluster.local"), Resolver, options, Time, loggerFactory);
        PodEndpoint[] pods = [.. (await service.GetEndpointsAsync().AsTask().WaitAsync(Generous)).Endpoints];
        Report(service, pods, [198, 199, 200, 197, 200, 100], [2, 1, 0, 3, 0, 100]);

        Time.Advance(Every);

        (int EventId, Microsoft.Extensions.Logging.LogLevel Level, string Message) logged = Assert.Single(logs.Entries, e => e.EventId == 1207);
        Assert.Contains(pods[5].ToString(), logged.Message, StringComparison.Ordinal);
        Assert.Contains("success rate 50.0 % over 200 calls", logged.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(4, 100)]
    [InlineData(6, 99)]
    public async Task Too_few_pods_or_too_few_calls_eject_nobody(int podCount, int calls)
    {
        (HeadlessService service, PodEndpoint[] pods) = await StartAsync(podCount, _ => { });
        long[] successes = [.. pods.Select((_, i) => i == 0 ? calls / 2L : calls)];
        long[] failures = [.. pods.Select((_, i) => i == 0 ? calls - (calls / 2L) : 0L)];
        Report(service, pods, successes, failures);

        Time.Advance(Every);

        Assert.Empty(Ejected(service));
    }

    [Fact]
    public async Task Failure_percentage_is_off_by_default_and_ejects_above_its_threshold_when_set()
    {
        // Every pod fails alike: the success rate sees no outlier; only the failure percentage can eject.
        long[] successes = [10, 10, 10, 10, 10];
        long[] failures = [90, 90, 90, 90, 90];
        (HeadlessService off, PodEndpoint[] offPods) = await StartAsync(5, _ => { });
        Report(off, offPods, successes, failures);
        Time.Advance(Every);
        Assert.Empty(Ejected(off));

        (HeadlessService on, PodEndpoint[] onPods) = await StartAsync(5, p =>
        {
            p.FailurePercentageThreshold = 85;
            p.MaxEjectionPercent = 100;
        });
        Report(on, onPods, successes, failures);
        Time.Advance(Every);
        Assert.Equal(onPods, Ejected(on));
    }

    [Fact]
    public async Task Outliers_are_ejected_only_up_to_the_max_ejection_percent()
    {
        (HeadlessService service, PodEndpoint[] pods) = await StartAsync(10, p => p.FailurePercentageThreshold = 50);
        Report(service, pods, [100, 100, 100, 100, 10, 10, 10, 10, 10, 10], [0, 0, 0, 0, 90, 90, 90, 90, 90, 90]);

        Time.Advance(Every);

        Assert.Equal(pods[4..9], Ejected(service));
    }

    [Fact]
    public async Task The_pods_ejected_after_an_interval_are_the_ones_the_rules_name()
    {
        // An oracle written the plain way (LINQ over the reported counts) against the service's own judgement.
        Gen<(long[] Successes, long[] Failures, bool FailurePercentage)> cases =
            from n in Gen.Int[1, 12]
            from calls in Gen.Int[0, 400].Array[n]
            from failed in Gen.Double[0, 1].Array[n]
            from percentage in Gen.Bool
            select ((long[])[.. calls.Select((c, i) => c - (long)(c * failed[i]))], (long[])[.. calls.Select((c, i) => (long)(c * failed[i]))], percentage);

        await Property.ForAllAsync(cases, iterations: 60, seed: 0x13_02_0001UL, async c =>
        {
            (HeadlessService service, PodEndpoint[] pods) = await StartAsync(c.Successes.Length, p =>
            {
                p.MaxEjectionPercent = 100;
                p.FailurePercentageThreshold = c.FailurePercentage ? 60 : null;
            });
            Report(service, pods, c.Successes, c.Failures);

            Time.Advance(Every);

            Assert.Equal(Oracle(c.Successes, c.Failures, c.FailurePercentage ? 60 : null).Select(i => pods[i]), Ejected(service));
            await service.DisposeAsync();
        });
    }

    private static IEnumerable<int> Oracle(long[] successes, long[] failures, double? failurePercent)
    {
        var ejected = new SortedSet<int>();
        int[] rated = [.. Enumerable.Range(0, successes.Length).Where(i => successes[i] + failures[i] >= 100)];
        if (rated.Length >= 5)
        {
            double[] rates = [.. rated.Select(i => (double)successes[i] / (successes[i] + failures[i]))];
            double mean = rates.Average();
            double stdev = Math.Sqrt(rates.Select(r => (r - mean) * (r - mean)).Average());
            ejected.UnionWith(rated.Where((_, k) => rates[k] < mean - (1.9 * stdev)));
        }

        int[] counted = [.. Enumerable.Range(0, successes.Length).Where(i => successes[i] + failures[i] >= 50)];
        if (failurePercent is { } percent && counted.Length >= 5)
        {
            ejected.UnionWith(counted.Where(i => 100.0 * failures[i] / (successes[i] + failures[i]) > percent));
        }

        return ejected;
    }
}
