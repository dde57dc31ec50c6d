using System.Collections.Immutable;

namespace Headless.Discovery;

/// <summary>Outlier detection by success rate and failure percentage: outcomes counted per pod, judged every interval.</summary>
internal sealed partial class HealthTracker
{
    private OutcomeCounters? _outcomes;
    private ITimer? _judge;

    /// <summary>Counts per member pod from now on, and starts judging intervals. Caller holds <see cref="_lock"/>.</summary>
    private void SyncOutcomeCounters(ImmutableArray<PodEndpoint> members)
    {
        if (!_passive.JudgesIntervals)
        {
            return;
        }

        // A new membership starts its counts over: an interval judges only pods that were members all through it.
        Volatile.Write(ref _outcomes, new OutcomeCounters(members));
        _judge ??= _timeProvider.CreateTimer(static s => ((HealthTracker)s!).JudgeInterval(), this, _passive.Interval, _passive.Interval);
    }

    /// <summary>On the outcome path: a lookup and an interlocked increment, no lock, no allocation.</summary>
    private void CountOutcome(PodEndpoint endpoint, bool succeeded) => Volatile.Read(ref _outcomes)?.Record(endpoint, succeeded);

    /// <summary>Takes one interval's counts and ejects the outliers they show, within the ejection cap.</summary>
    private void JudgeInterval()
    {
        OutcomeCounters? counters = Volatile.Read(ref _outcomes);
        if (counters is null)
        {
            return;
        }

        (long[] successes, long[] failures) = counters.Drain();
        List<(int Index, string Reason)> outliers = OutlierRules.Find(successes, failures, _passive);
        if (outliers.Count == 0)
        {
            return;
        }

        lock (_lock)
        {
            if (_disposed || !ReferenceEquals(counters, _outcomes))
            {
                // Disposed, or the membership changed while the interval was judged: its pods may have left.
                return;
            }

            foreach ((int index, string reason) in outliers)
            {
                TryEject(StateOf(counters.Members[index]), failures: 0, reason);
            }
        }
    }
}
