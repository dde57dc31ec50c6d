using System.Net;
using Headless.Discovery.Tests.DependencyInjection;

namespace Headless.Discovery.Tests.Refresh;

/// <summary>The membership rules at their edges: the staleness limit, and what is logged when an empty answer drops pods.</summary>
public sealed class MembershipPolicyTests
{
    private static readonly ServiceName Svc = ServiceName.Parse("web.default.svc.cluster.local");
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan MaxStaleness = TimeSpan.FromSeconds(30);

    private static MembershipPolicy Policy(ListLoggerProvider logs, int confirmations = 1)
    {
        var settings = new RefreshSettings(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60), 0, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10), MaxStaleness, confirmations);
        return new MembershipPolicy(Svc, settings, new RefreshSchedule(settings, () => 0.5), Membership.Initial(T0), logs.CreateLogger("test"));
    }

    private static ResolutionResult Pods(int count) =>
        ResolutionResult.Success(Enumerable.Range(1, count).Select(i => new PodEndpoint(IPAddress.Parse($"10.0.0.{i}"), 80)), TimeSpan.FromSeconds(5));

    private static readonly ResolutionResult Failure = ResolutionResult.Failed(new TimeoutException("DNS timed out"));

    [Fact]
    public void Endpoints_are_kept_stale_up_to_exactly_MaxStaleness_and_dropped_after_it()
    {
        using var logs = new ListLoggerProvider();
        MembershipPolicy policy = Policy(logs);
        Assert.Equal(3, policy.Decide(Pods(3), T0).Next!.Count);

        Membership stale = policy.Decide(Failure, T0 + TimeSpan.FromSeconds(1)).Next!;
        Assert.Equal((3, true), (stale.Count, stale.IsStale));

        // Stale for exactly MaxStaleness: still kept (nothing new to publish).
        Assert.Null(policy.Decide(Failure, T0 + TimeSpan.FromSeconds(1) + MaxStaleness).Next);

        Membership dropped = policy.Decide(Failure, T0 + TimeSpan.FromSeconds(1) + MaxStaleness + TimeSpan.FromTicks(1)).Next!;
        Assert.Equal((0, true), (dropped.Count, dropped.IsStale));
        Assert.Single(logs.Entries, e => e.EventId == 1105);

        // Already empty and stale: further failures publish nothing and drop nothing.
        Assert.Null(policy.Decide(Failure, T0 + TimeSpan.FromMinutes(5)).Next);
        Assert.Single(logs.Entries, e => e.EventId == 1105);
    }

    [Fact]
    public void An_empty_answer_that_drops_pods_says_so_and_one_for_a_set_that_was_empty_says_nothing()
    {
        using var logs = new ListLoggerProvider();
        MembershipPolicy first = Policy(logs);
        Assert.Equal(0, first.Decide(ResolutionResult.NotFound(), T0).Next!.Count);
        Assert.DoesNotContain(logs.Entries, e => e.EventId == 1104);

        MembershipPolicy policy = Policy(logs);
        _ = policy.Decide(Pods(2), T0);
        Assert.Equal(0, policy.Decide(ResolutionResult.NotFound(), T0 + TimeSpan.FromSeconds(5)).Next!.Count);
        (int EventId, Microsoft.Extensions.Logging.LogLevel Level, string Message) dropped = Assert.Single(logs.Entries, e => e.EventId == 1104);
        Assert.Contains("dropping all 2 endpoint(s)", dropped.Message, StringComparison.Ordinal);
    }
}
