using System.Collections.Immutable;
using System.Net;
using CsCheck;
using Headless.Discovery.TestSupport;

namespace Headless.Discovery.Tests.Endpoints;

/// <summary>
/// <see cref="EndpointSetChange.Compute"/> against a plain set model, over generated pairs of snapshots: which pods were
/// added and removed, which common pods changed health or ejection, and which kind flags are set.
/// </summary>
public sealed class EndpointSetChangeTests
{
    private static readonly ServiceName Svc = ServiceName.Parse("web.default.svc.cluster.local");

    /// <summary>Twelve pods, some with hostnames (the same address under two hostnames is two pods).</summary>
    private static readonly PodEndpoint[] Universe =
    [
        .. Enumerable.Range(1, 8).Select(i => new PodEndpoint(IPAddress.Parse($"10.0.0.{i}"), 80)),
        new PodEndpoint(IPAddress.Parse("10.0.0.1"), 80, "web-0.web.default.svc.cluster.local"),
        new PodEndpoint(IPAddress.Parse("10.0.0.1"), 80, "web-1.web.default.svc.cluster.local"),
        new PodEndpoint(IPAddress.Parse("10.0.1.1"), 8080),
        new PodEndpoint(IPAddress.Parse("fd00::1"), 80),
    ];

    /// <summary>A snapshot: a subset of the universe, a health and ejection per pod (or no health at all), staleness and panic.</summary>
    private static readonly Gen<EndpointSet> Snapshots =
        Gen.Select(
            Gen.Select(Gen.Enum<EndpointHealth>(), Gen.Bool).Array[Universe.Length],
            Gen.Bool.Array[Universe.Length],
            Gen.Bool,
            Gen.Bool,
            Gen.Bool)
        .Select((health, member, withHealth, stale, panic) =>
        {
            ImmutableArray<PodEndpoint> pods = PodEndpointOrder.SortUnique(Universe.Where((_, i) => member[i]));
            ImmutableArray<EndpointStatus> statuses = withHealth
                ? [.. pods.Select(p => new EndpointStatus(p, health[Array.IndexOf(Universe, p)].Item1, health[Array.IndexOf(Universe, p)].Item2))]
                : default;
            (ImmutableArray<PodEndpoint> available, _) = AvailabilityPolicy.Apply(pods, statuses, 0);
            return new EndpointSet(Svc, pods, 1, DateTimeOffset.UnixEpoch, TimeSpan.FromSeconds(5), stale, stale ? DateTimeOffset.UnixEpoch : null, null, statuses, withHealth && panic ? pods : available, withHealth && panic);
        });

    [Fact]
    public void The_change_between_any_two_snapshots_is_what_a_set_model_says()
    {
        Property.ForAll(
            Gen.Select(Snapshots, Snapshots),
            iterations: 2000,
            seed: 0x10_00_0001UL,
            pair =>
            {
                (EndpointSet before, EndpointSet after) = pair;
                EndpointSetChange change = EndpointSetChange.Compute(before, after);

                PodEndpoint[] added = [.. after.Endpoints.Where(p => !before.Endpoints.Contains(p)).Order()];
                PodEndpoint[] removed = [.. before.Endpoints.Where(p => !after.Endpoints.Contains(p)).Order()];
                EndpointStatus[] healthChanged =
                [
                    .. after.Statuses.Where(a => before.GetStatus(a.Endpoint) is { } b && (b.Health != a.Health || b.IsEjected != a.IsEjected))
                        .OrderBy(s => s.Endpoint),
                ];
                EndpointSetChangeKind kind = EndpointSetChangeKind.None;
                if (added.Length + removed.Length > 0)
                {
                    kind |= EndpointSetChangeKind.Membership;
                }

                if (before.IsStale != after.IsStale)
                {
                    kind |= EndpointSetChangeKind.Staleness;
                }

                if (healthChanged.Length > 0 || before.IsPanic != after.IsPanic)
                {
                    kind |= EndpointSetChangeKind.Health;
                }

                Assert.Same(before, change.Previous);
                Assert.Same(after, change.Current);
                Assert.Equal(added, change.Added.ToArray());
                Assert.Equal(removed, change.Removed.ToArray());
                Assert.Equal(healthChanged, change.HealthChanged.ToArray());
                Assert.Equal(kind, change.Kind);
            });
    }

    [Fact]
    public void The_first_change_counts_every_pod_as_added()
    {
        Property.ForAll(
            Snapshots,
            iterations: 200,
            seed: 0x10_00_0002UL,
            current =>
            {
                EndpointSetChange change = EndpointSetChange.Compute(null, current);
                Assert.Null(change.Previous);
                Assert.Equal(EndpointSetChangeKind.Initial, change.Kind);
                Assert.Equal(current.Endpoints, change.Added);
                Assert.Empty(change.Removed);
                Assert.Empty(change.HealthChanged);
            });
    }

    [Fact]
    public void A_change_describes_its_kind_and_counts()
    {
        var before = new EndpointSet(Svc, PodEndpointOrder.SortUnique(Universe[..3]), 1, DateTimeOffset.UnixEpoch, TimeSpan.FromSeconds(5), false, null, null);
        var after = new EndpointSet(Svc, PodEndpointOrder.SortUnique(Universe[2..6]), 2, DateTimeOffset.UnixEpoch, TimeSpan.FromSeconds(5), false, null, null);
        string text = EndpointSetChange.Compute(before, after).ToString();
        Assert.StartsWith("Membership: +3 -2 ~0 -> ", text, StringComparison.Ordinal);
        Assert.EndsWith(after.ToString(), text, StringComparison.Ordinal);
    }
}
