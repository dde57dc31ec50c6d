using System.Collections.Immutable;

namespace Headless.Discovery;

/// <summary>
/// Which pods selectors may choose from: those neither unhealthy nor ejected (<see cref="EndpointStatus.IsAvailable"/>),
/// or every pod in panic mode — Envoy's rule: when fewer than the threshold percentage are available, spreading load over
/// all pods beats overloading the few healthy ones. Pure and thread-safe.
/// </summary>
internal static class AvailabilityPolicy
{
    /// <summary>Panic: fewer than <paramref name="thresholdPercent"/> of the pods available (a threshold of 0 never panics; no pods never panic).</summary>
    public static bool IsPanic(int available, int total, double thresholdPercent) =>
        available * 100.0 < thresholdPercent * total;

    /// <summary>
    /// The selectable pods of <paramref name="endpoints"/> given their <paramref name="statuses"/> (aligned by index;
    /// default when nothing is known: every pod), and whether the set is in panic mode. Allocates only when some pods
    /// are excluded.
    /// </summary>
    public static (ImmutableArray<PodEndpoint> Available, bool IsPanic) Apply(
        ImmutableArray<PodEndpoint> endpoints,
        ImmutableArray<EndpointStatus> statuses,
        double thresholdPercent)
    {
        if (statuses.IsDefault)
        {
            return (endpoints, false);
        }

        int available = EndpointStatus.CountAvailable(statuses);
        bool isPanic = IsPanic(available, endpoints.Length, thresholdPercent);
        return (isPanic ? endpoints : EndpointStatus.AvailableOf(endpoints, statuses, available), isPanic);
    }
}
