namespace Headless.Discovery;

/// <summary>
/// Recorded in <see cref="EndpointSet.LastError"/> while an empty answer (NXDOMAIN or NODATA) has not yet been
/// confirmed by <see cref="HeadlessServiceOptions.EmptyAnswerConfirmations"/> consecutive empty answers, so the last
/// known good endpoints are kept, marked stale. The message names the service, the answer and how many of the needed
/// empty answers came in a row. Built only by the library: read it, do not create it.
/// </summary>
public sealed class EmptyAnswerException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="service">The service.</param>
    /// <param name="outcome">NotFound or NoData.</param>
    /// <param name="consecutive">How many empty answers in a row so far.</param>
    /// <param name="required">How many are needed to accept an empty set.</param>
    /// <param name="innerException">The resolver's error, if any.</param>
    internal EmptyAnswerException(ServiceName service, ResolutionOutcome outcome, int consecutive, int required, Exception? innerException = null)
        : base(
            $"'{service}' answered {(outcome == ResolutionOutcome.NotFound ? "NXDOMAIN" : "NODATA")} ({consecutive} of {required} consecutive empty answers needed before the endpoints are dropped); keeping the last known endpoints.",
            innerException)
    {
        Outcome = outcome;
    }

    /// <summary><see cref="ResolutionOutcome.NotFound"/> or <see cref="ResolutionOutcome.NoData"/>.</summary>
    public ResolutionOutcome Outcome { get; }
}
