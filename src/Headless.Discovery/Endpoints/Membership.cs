using System.Collections.Immutable;

namespace Headless.Discovery;

/// <summary>
/// Who is in the set and how fresh that knowledge is: everything of a snapshot except its version and health. Decided
/// by the refresh room, composed with health into the next <see cref="EndpointSet"/> by the publisher. Immutable.
/// </summary>
internal sealed class Membership(
    ImmutableArray<PodEndpoint> endpoints,
    DateTimeOffset resolvedAt,
    TimeSpan ttl,
    bool isStale = false,
    DateTimeOffset? staleSince = null,
    Exception? lastError = null)
{
    /// <summary>The pods, sorted and unique.</summary>
    public ImmutableArray<PodEndpoint> Endpoints { get; } = endpoints;

    /// <summary>When the answer that produced this membership was received.</summary>
    public DateTimeOffset ResolvedAt { get; } = resolvedAt;

    /// <summary>The answer's smallest TTL.</summary>
    public TimeSpan Ttl { get; } = ttl;

    /// <summary>Whether these are last known good endpoints kept while resolution fails.</summary>
    public bool IsStale { get; } = isStale;

    /// <summary>When the membership first became stale.</summary>
    public DateTimeOffset? StaleSince { get; } = staleSince;

    /// <summary>Why it is stale or empty, or <see langword="null"/>.</summary>
    public Exception? LastError { get; } = lastError;

    /// <summary>Number of pods.</summary>
    public int Count => Endpoints.Length;

    /// <summary>The placeholder before the first resolution: no pods, resolved "at" <paramref name="now"/>, TTL zero.</summary>
    public static Membership Initial(DateTimeOffset now) => new(ImmutableArray<PodEndpoint>.Empty, now, TimeSpan.Zero);
}
