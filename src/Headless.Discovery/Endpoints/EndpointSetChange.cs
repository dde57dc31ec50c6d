using System.Collections.Immutable;

namespace Headless.Discovery;

/// <summary>What changed between two published snapshots.</summary>
[Flags]
public enum EndpointSetChangeKind
{
    /// <summary>
    /// No difference between the two snapshots: a watcher that fell behind missed versions that cancel out (for example a
    /// pod that left and came back).
    /// </summary>
    None = 0,

    /// <summary>The first snapshot a watcher sees: everything in it counts as added.</summary>
    Initial = 1,

    /// <summary>Pods were added or removed.</summary>
    Membership = 2,

    /// <summary>The snapshot became stale or fresh again.</summary>
    Staleness = 4,

    /// <summary>
    /// Pods present in both snapshots changed health or ejection (see <see cref="EndpointSetChange.HealthChanged"/>), or
    /// <see cref="EndpointSet.IsPanic"/> changed.
    /// </summary>
    Health = 8,
}

/// <summary>
/// The difference between two snapshots of a headless Service: which pods were added and removed, which changed
/// health, and whether staleness or panic mode changed. Produced by <see cref="IHeadlessService.WatchAsync"/> and <see cref="IHeadlessService.Changed"/>.
/// </summary>
public sealed class EndpointSetChange
{
    private EndpointSetChange(EndpointSet? previous, EndpointSet current, ImmutableArray<PodEndpoint> added, ImmutableArray<PodEndpoint> removed, ImmutableArray<EndpointStatus> healthChanged, EndpointSetChangeKind kind)
    {
        Previous = previous;
        Current = current;
        Added = added;
        Removed = removed;
        HealthChanged = healthChanged;
        Kind = kind;
    }

    /// <summary>The snapshot before the change, or <see langword="null"/> for the first item of a watch.</summary>
    public EndpointSet? Previous { get; }

    /// <summary>The snapshot after the change.</summary>
    public EndpointSet Current { get; }

    /// <summary>Pods in <see cref="Current"/> that were not in <see cref="Previous"/>, sorted.</summary>
    public ImmutableArray<PodEndpoint> Added { get; }

    /// <summary>Pods in <see cref="Previous"/> that are not in <see cref="Current"/>, sorted.</summary>
    public ImmutableArray<PodEndpoint> Removed { get; }

    /// <summary>
    /// The new status of each pod present in both snapshots whose <see cref="EndpointStatus.Health"/> or
    /// <see cref="EndpointStatus.IsEjected"/> differs, sorted by pod; empty for the first item of a watch (read
    /// <see cref="EndpointSet.Statuses"/> of <see cref="Current"/> instead). A watcher that falls behind sees the net
    /// change only: a pod that flapped and came back between two reads is not listed.
    /// </summary>
    public ImmutableArray<EndpointStatus> HealthChanged { get; }

    /// <summary>What kind of change this is.</summary>
    public EndpointSetChangeKind Kind { get; }

    /// <summary>
    /// Computes the change from <paramref name="previous"/> to <paramref name="current"/> in one linear merge over
    /// the two sorted endpoint arrays.
    /// </summary>
    /// <param name="previous">The earlier snapshot, or <see langword="null"/> to treat every endpoint as added.</param>
    /// <param name="current">The later snapshot.</param>
    /// <returns>The change; <see cref="Kind"/> is <see cref="EndpointSetChangeKind.None"/> when nothing differs.</returns>
    public static EndpointSetChange Compute(EndpointSet? previous, EndpointSet current)
    {
        ArgumentNullException.ThrowIfNull(current);
        if (previous is null)
        {
            return new EndpointSetChange(null, current, current.Endpoints, ImmutableArray<PodEndpoint>.Empty, ImmutableArray<EndpointStatus>.Empty, EndpointSetChangeKind.Initial);
        }

        Diff(previous.Endpoints, current.Endpoints, out ImmutableArray<PodEndpoint> added, out ImmutableArray<PodEndpoint> removed);
        ImmutableArray<EndpointStatus> healthChanged = HealthDiff(previous, current);
        EndpointSetChangeKind kind =
            (added.Length > 0 || removed.Length > 0 ? EndpointSetChangeKind.Membership : EndpointSetChangeKind.None)
            | (previous.IsStale != current.IsStale ? EndpointSetChangeKind.Staleness : EndpointSetChangeKind.None)
            | (healthChanged.Length > 0 || previous.IsPanic != current.IsPanic ? EndpointSetChangeKind.Health : EndpointSetChangeKind.None);
        return new EndpointSetChange(previous, current, added, removed, healthChanged, kind);
    }

    /// <summary>Statuses of common members whose health or ejection differs, in one merge over the sorted arrays.</summary>
    private static ImmutableArray<EndpointStatus> HealthDiff(EndpointSet before, EndpointSet after)
    {
        // Neither knows anything about health (no probe, no failure reported): nothing can differ.
        if ((before.KnowsNoHealth && after.KnowsNoHealth) || before.Statuses == after.Statuses)
        {
            return ImmutableArray<EndpointStatus>.Empty;
        }

        ImmutableArray<EndpointStatus> beforeStatuses = before.Statuses, afterStatuses = after.Statuses;
        ImmutableArray<EndpointStatus>.Builder? changed = null;
        int i = 0, j = 0;
        while (i < before.Count && j < after.Count)
        {
            int c = before.Endpoints[i].CompareTo(after.Endpoints[j]);
            if (c < 0)
            {
                i++;
            }
            else if (c > 0)
            {
                j++;
            }
            else
            {
                EndpointStatus b = beforeStatuses[i];
                EndpointStatus a = afterStatuses[j];
                if (!ReferenceEquals(a, b) && (a.Health != b.Health || a.IsEjected != b.IsEjected))
                {
                    (changed ??= ImmutableArray.CreateBuilder<EndpointStatus>()).Add(a);
                }

                i++;
                j++;
            }
        }

        return changed?.ToImmutable() ?? ImmutableArray<EndpointStatus>.Empty;
    }

    /// <summary>Merges two sorted arrays; allocates only for non-empty results.</summary>
    internal static void Diff(ImmutableArray<PodEndpoint> before, ImmutableArray<PodEndpoint> after, out ImmutableArray<PodEndpoint> added, out ImmutableArray<PodEndpoint> removed)
    {
        ImmutableArray<PodEndpoint>.Builder? add = null;
        ImmutableArray<PodEndpoint>.Builder? rem = null;
        int i = 0, j = 0;
        while (i < before.Length && j < after.Length)
        {
            PodEndpoint b = before[i];
            PodEndpoint a = after[j];
            int c = b.CompareTo(a);
            if (c < 0)
            {
                (rem ??= ImmutableArray.CreateBuilder<PodEndpoint>()).Add(b);
                i++;
            }
            else if (c > 0)
            {
                (add ??= ImmutableArray.CreateBuilder<PodEndpoint>()).Add(a);
                j++;
            }
            else
            {
                i++;
                j++;
            }
        }

        for (; i < before.Length; i++)
        {
            (rem ??= ImmutableArray.CreateBuilder<PodEndpoint>()).Add(before[i]);
        }

        for (; j < after.Length; j++)
        {
            (add ??= ImmutableArray.CreateBuilder<PodEndpoint>()).Add(after[j]);
        }

        added = add?.ToImmutable() ?? ImmutableArray<PodEndpoint>.Empty;
        removed = rem?.ToImmutable() ?? ImmutableArray<PodEndpoint>.Empty;
    }

    /// <summary>True when both arrays hold the same endpoints in the same order.</summary>
    internal static bool SameMembers(ImmutableArray<PodEndpoint> x, ImmutableArray<PodEndpoint> y)
    {
        if (x.Length != y.Length)
        {
            return false;
        }

        for (int i = 0; i < x.Length; i++)
        {
            if (!x[i].Equals(y[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A short description: kind, added and removed counts.</summary>
    public override string ToString() => $"{Kind}: +{Added.Length} -{Removed.Length} ~{HealthChanged.Length} -> {Current}";
}
