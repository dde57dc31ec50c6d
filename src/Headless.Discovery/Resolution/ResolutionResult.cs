using System.Collections.Immutable;

namespace Headless.Discovery;

/// <summary>How one resolution round ended.</summary>
public enum ResolutionOutcome
{
    /// <summary>The server answered with at least one usable record.</summary>
    Success,

    /// <summary>The name does not exist (NXDOMAIN). For a headless Service this also means "no ready pods".</summary>
    NotFound,

    /// <summary>The name exists but has no records of the requested type (NOERROR with an empty answer).</summary>
    NoData,

    /// <summary>The query failed: timeout, unreachable server, SERVFAIL, REFUSED or a malformed answer.</summary>
    Failed,
}

/// <summary>The result of one resolution round by an <see cref="IEndpointResolver"/>. Built through the static factories.</summary>
public sealed class ResolutionResult
{
    private ResolutionResult(ResolutionOutcome outcome, ImmutableArray<PodEndpoint> endpoints, TimeSpan ttl, Exception? error)
    {
        Outcome = outcome;
        Endpoints = endpoints;
        Ttl = ttl;
        Error = error;
    }

    /// <summary>How the round ended.</summary>
    public ResolutionOutcome Outcome { get; }

    /// <summary>The endpoints, sorted and unique; empty unless <see cref="Outcome"/> is <see cref="ResolutionOutcome.Success"/>.</summary>
    public ImmutableArray<PodEndpoint> Endpoints { get; }

    /// <summary>
    /// The smallest TTL in the answer (for <see cref="ResolutionOutcome.NotFound"/> and <see cref="ResolutionOutcome.NoData"/>,
    /// the negative-caching TTL from the SOA record when present); <see cref="TimeSpan.Zero"/> when unknown.
    /// </summary>
    public TimeSpan Ttl { get; }

    /// <summary>What went wrong, for <see cref="ResolutionOutcome.Failed"/> (and a descriptive error for the empty outcomes).</summary>
    public Exception? Error { get; }

    /// <summary><see langword="true"/> for <see cref="ResolutionOutcome.NotFound"/> and <see cref="ResolutionOutcome.NoData"/>.</summary>
    internal bool IsEmptyAnswer => Outcome is ResolutionOutcome.NotFound or ResolutionOutcome.NoData;

    /// <summary>A successful answer.</summary>
    /// <param name="endpoints">The endpoints in any order; they are sorted and de-duplicated here.</param>
    /// <param name="ttl">The smallest TTL in the answer.</param>
    /// <returns>The result; when <paramref name="endpoints"/> is empty the outcome is <see cref="ResolutionOutcome.NoData"/>.</returns>
    public static ResolutionResult Success(IEnumerable<PodEndpoint> endpoints, TimeSpan ttl)
    {
        ImmutableArray<PodEndpoint> sorted = PodEndpointOrder.SortUnique(endpoints);
        return sorted.IsEmpty
            ? NoData(ttl)
            : new ResolutionResult(ResolutionOutcome.Success, sorted, ttl, null);
    }

    /// <summary>A successful answer whose endpoints are already sorted and unique (the resolver's own path: no second sort or copy).</summary>
    internal static ResolutionResult FromSortedUnique(ImmutableArray<PodEndpoint> sorted, TimeSpan ttl) =>
        sorted.IsEmpty
            ? NoData(ttl)
            : new ResolutionResult(ResolutionOutcome.Success, sorted, ttl, null);

    /// <summary>NXDOMAIN: the name does not exist.</summary>
    /// <param name="ttl">The negative-caching TTL, or <see cref="TimeSpan.Zero"/>.</param>
    /// <param name="error">An optional descriptive error.</param>
    /// <returns>The result.</returns>
    public static ResolutionResult NotFound(TimeSpan ttl = default, Exception? error = null) =>
        new(ResolutionOutcome.NotFound, ImmutableArray<PodEndpoint>.Empty, ttl, error);

    /// <summary>NOERROR with no usable records.</summary>
    /// <param name="ttl">The negative-caching TTL, or <see cref="TimeSpan.Zero"/>.</param>
    /// <param name="error">An optional descriptive error.</param>
    /// <returns>The result.</returns>
    public static ResolutionResult NoData(TimeSpan ttl = default, Exception? error = null) =>
        new(ResolutionOutcome.NoData, ImmutableArray<PodEndpoint>.Empty, ttl, error);

    /// <summary>The query failed.</summary>
    /// <param name="error">What went wrong.</param>
    /// <returns>The result.</returns>
    public static ResolutionResult Failed(Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return new(ResolutionOutcome.Failed, ImmutableArray<PodEndpoint>.Empty, TimeSpan.Zero, error);
    }

    /// <summary>A short description of the outcome.</summary>
    public override string ToString() => Outcome switch
    {
        ResolutionOutcome.Success => $"Success: {Endpoints.Length} endpoint(s), ttl {Ttl.TotalSeconds:0.###}s",
        _ => Error is null ? Outcome.ToString() : $"{Outcome}: {Error.Message}",
    };
}
