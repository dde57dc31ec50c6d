using System.Net;

namespace Headless.Discovery;

/// <summary>
/// The outcome of one name's address lookup (A, AAAA, or both merged): the usable addresses in answer order (duplicates
/// kept; sorting removes them), the smallest TTL, and for empty or failed lookups the error that says why.
/// </summary>
internal sealed class AddressLookup(ResolutionOutcome outcome, List<IPAddress> addresses, TimeSpan ttl, Exception? error)
{
    public ResolutionOutcome Outcome { get; } = outcome;

    public List<IPAddress> Addresses { get; } = addresses;

    public TimeSpan Ttl { get; } = ttl;

    public Exception? Error { get; } = error;

    public static AddressLookup Success(List<IPAddress> addresses, TimeSpan ttl) => new(ResolutionOutcome.Success, addresses, ttl, null);

    public static AddressLookup Failed(Exception error) => new(ResolutionOutcome.Failed, [], TimeSpan.Zero, error);

    public static AddressLookup Empty(ResolutionOutcome outcome, TimeSpan ttl, Exception? error) => new(outcome, [], ttl, error);

    /// <summary>The round's result for a lookup that is not a success.</summary>
    public ResolutionResult ToResult() => Outcome switch
    {
        ResolutionOutcome.NotFound => ResolutionResult.NotFound(Ttl, Error),
        ResolutionOutcome.NoData => ResolutionResult.NoData(Ttl, Error),
        ResolutionOutcome.Failed => ResolutionResult.Failed(Error!),
        _ => throw new InvalidOperationException("A successful lookup has no empty result."),
    };
}
