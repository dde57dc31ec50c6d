using System.Collections.Immutable;
using Microsoft.Extensions.Logging;

namespace Headless.Discovery;

/// <summary>
/// Decides, from one round's <see cref="ResolutionResult"/>, the membership to publish (or none) and when to refresh
/// next: a success replaces the members when they changed or were stale; a failure keeps the last known good members,
/// marked stale, until <see cref="RefreshSettings.MaxStaleness"/> runs out; an empty answer (NXDOMAIN, NODATA) empties
/// the set only after <see cref="RefreshSettings.EmptyAnswerConfirmations"/> in a row.
/// </summary>
/// <remarks>
/// Not thread-safe: the refresh loop calls it one round at a time. It remembers the last membership it decided, so it
/// needs nothing from the publisher.
/// </remarks>
internal sealed partial class MembershipPolicy
{
    private readonly ServiceName _service;
    private readonly RefreshSettings _settings;
    private readonly RefreshSchedule _schedule;
    private readonly ILogger _logger;
    private Membership _last;
    private bool _decided;
    private int _consecutiveEmptyAnswers;

    /// <param name="service">The service, for messages.</param>
    /// <param name="settings">The staleness and empty-answer rules.</param>
    /// <param name="schedule">When to refresh next.</param>
    /// <param name="initial">The membership before the first round (no pods, resolved at creation).</param>
    /// <param name="logger">Where refresh events go.</param>
    public MembershipPolicy(ServiceName service, RefreshSettings settings, RefreshSchedule schedule, Membership initial, ILogger logger)
    {
        _service = service;
        _settings = settings;
        _schedule = schedule;
        _last = initial;
        _logger = logger;
    }

    /// <summary>Failed rounds in a row (0 after a success or an empty answer).</summary>
    public int ConsecutiveFailures { get; private set; }

    /// <summary>The membership to publish after <paramref name="result"/> (null: nothing changed) and the delay to the next round.</summary>
    public (Membership? Next, TimeSpan Delay) Decide(ResolutionResult result, DateTimeOffset now)
    {
        (Membership? next, TimeSpan delay) = result.Outcome switch
        {
            ResolutionOutcome.Success => OnSuccess(result, now),
            ResolutionOutcome.NotFound or ResolutionOutcome.NoData => OnEmptyAnswer(result, now),
            _ => OnFailure(result, now),
        };

        if (next is not null)
        {
            _last = next;
            _decided = true;
        }

        return (next, delay);
    }

    private (Membership?, TimeSpan) OnSuccess(ResolutionResult result, DateTimeOffset now)
    {
        bool recovered = _last.IsStale || ConsecutiveFailures > 0 || _consecutiveEmptyAnswers > 0;
        if (recovered && _decided)
        {
            Log.Recovered(_logger, _service.Value, result.Endpoints.Length);
        }

        ConsecutiveFailures = 0;
        _consecutiveEmptyAnswers = 0;
        TimeSpan delay = _schedule.AfterAnswer(result.Ttl);
        if (_decided && !_last.IsStale && EndpointSetChange.SameMembers(_last.Endpoints, result.Endpoints))
        {
            return (null, delay);
        }

        return (new Membership(result.Endpoints, now, result.Ttl), delay);
    }

    private (Membership?, TimeSpan) OnEmptyAnswer(ResolutionResult result, DateTimeOffset now)
    {
        ConsecutiveFailures = 0;
        _consecutiveEmptyAnswers++;
        if (_last.Count == 0 || _consecutiveEmptyAnswers >= _settings.EmptyAnswerConfirmations)
        {
            TimeSpan delay = _schedule.AfterAnswer(result.Ttl);
            if (_decided && _last.Count == 0 && !_last.IsStale)
            {
                return (null, delay);
            }

            if (_last.Count > 0)
            {
                Log.EmptyAnswerAccepted(_logger, _service.Value, result.Outcome, _consecutiveEmptyAnswers, _last.Count);
            }

            // The resolver's error says why the set is empty (e.g. no SRV target has an address of the family).
            return (new Membership(ImmutableArray<PodEndpoint>.Empty, now, result.Ttl, lastError: result.Error), delay);
        }

        Log.EmptyAnswerNotYetAccepted(_logger, _service.Value, result.Outcome, _consecutiveEmptyAnswers, _settings.EmptyAnswerConfirmations);
        var error = new EmptyAnswerException(_service, result.Outcome, _consecutiveEmptyAnswers, _settings.EmptyAnswerConfirmations, result.Error);
        return (MarkStale(error, now), _schedule.ToConfirmEmptyAnswer());
    }

    private (Membership?, TimeSpan) OnFailure(ResolutionResult result, DateTimeOffset now)
    {
        ConsecutiveFailures++;
        Exception error = result.Error ?? new InvalidOperationException($"Resolving '{_service}' failed.");
        Log.RefreshFailed(_logger, _service.Value, ConsecutiveFailures, _last.Count, error);
        return (MarkStale(error, now), _schedule.AfterFailure(ConsecutiveFailures));
    }

    /// <summary>Keeps the last known good endpoints, marked stale, until <see cref="RefreshSettings.MaxStaleness"/> runs out.</summary>
    private Membership? MarkStale(Exception error, DateTimeOffset now)
    {
        Membership previous = _last;
        DateTimeOffset staleSince = previous.StaleSince ?? now;
        bool expired = _settings.MaxStaleness != Timeout.InfiniteTimeSpan && now - staleSince > _settings.MaxStaleness;
        if (expired && previous.Count > 0)
        {
            Log.StaleEndpointsDropped(_logger, _service.Value, previous.Count, _settings.MaxStaleness);
            return new Membership(ImmutableArray<PodEndpoint>.Empty, previous.ResolvedAt, previous.Ttl, true, staleSince, error);
        }

        if (previous.IsStale && _decided)
        {
            // Already published as stale: a further failure changes nothing a reader can act on.
            return null;
        }

        return new Membership(previous.Endpoints, previous.ResolvedAt, previous.Ttl, true, staleSince, error);
    }
}
