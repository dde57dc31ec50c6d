using System.Collections.Frozen;
using System.Collections.Immutable;

namespace Headless.Discovery;

/// <summary>
/// Successes and failures reported per member pod since the last drain, for outlier detection by success rate and
/// failure percentage. Recording is a dictionary lookup and one interlocked increment: no lock, no allocation. Built
/// anew for each membership (counts of the old one are dropped: the next interval starts fresh).
/// </summary>
internal sealed class OutcomeCounters
{
    private readonly FrozenDictionary<PodEndpoint, int> _index;
    private readonly long[] _counts;

    public OutcomeCounters(ImmutableArray<PodEndpoint> members)
    {
        Members = members;
        _index = members.Select((pod, i) => KeyValuePair.Create(pod, i)).ToFrozenDictionary();
        _counts = new long[members.Length * 2];
    }

    /// <summary>The pods counted, in membership order.</summary>
    public ImmutableArray<PodEndpoint> Members { get; }

    /// <summary>Counts one outcome of <paramref name="endpoint"/>; ignores pods that are not members.</summary>
    public void Record(PodEndpoint endpoint, bool succeeded)
    {
        if (_index.TryGetValue(endpoint, out int i))
        {
            Interlocked.Increment(ref _counts[(i * 2) + (succeeded ? 0 : 1)]);
        }
    }

    /// <summary>Takes the counts since the last drain and starts over.</summary>
    public (long[] Successes, long[] Failures) Drain()
    {
        long[] successes = new long[Members.Length];
        long[] failures = new long[Members.Length];
        for (int i = 0; i < Members.Length; i++)
        {
            successes[i] = Interlocked.Exchange(ref _counts[i * 2], 0);
            failures[i] = Interlocked.Exchange(ref _counts[(i * 2) + 1], 0);
        }

        return (successes, failures);
    }
}

/// <summary>
/// Outlier detection by statistics over one interval's outcomes (Envoy's <c>outlier_detection.success_rate_*</c> and
/// <c>failure_percentage_*</c>, gRPC A50). Pure.
/// </summary>
internal static class OutlierRules
{
    /// <summary>
    /// The pods to eject, in pod order, each with why. Success rate: among pods with at least the request volume, when
    /// there are at least the minimum hosts, a pod whose success rate is below mean − stdev × factor (population standard
    /// deviation). Failure percentage: among pods with at least its request volume, when there are at least its minimum
    /// hosts, a pod whose failures are more than the threshold percent of its calls. A pod both rules name is listed once.
    /// </summary>
    /// <remarks>The minimum hosts are at least 1 (validated), so a rule never judges an empty set.</remarks>
    public static List<(int Index, string Reason)> Find(long[] successes, long[] failures, PassiveHealthOptions options)
    {
        var found = new List<(int Index, string Reason)>();
        if (options.SuccessRateStdevFactor is { } factor)
        {
            int[] candidates = Candidates(successes, failures, options.SuccessRateRequestVolume);
            if (candidates.Length >= options.SuccessRateMinimumHosts)
            {
                double[] rates = [.. candidates.Select(i => Rate(successes[i], failures[i]))];
                double mean = rates.Average();
                double stdev = Math.Sqrt(rates.Sum(r => (r - mean) * (r - mean)) / rates.Length);
                double threshold = mean - (stdev * factor);
                for (int c = 0; c < candidates.Length; c++)
                {
                    if (rates[c] < threshold)
                    {
                        found.Add((candidates[c], FormattableString.Invariant($"success rate {rates[c]:P1} over {successes[candidates[c]] + failures[candidates[c]]} calls, below {threshold:P1} (mean {mean:P1} − {factor} × stdev {stdev:P1})")));
                    }
                }
            }
        }

        if (options.FailurePercentageThreshold is { } percent)
        {
            int[] candidates = Candidates(successes, failures, options.FailurePercentageRequestVolume);
            if (candidates.Length >= options.FailurePercentageMinimumHosts)
            {
                foreach (int i in candidates)
                {
                    double failed = 100.0 * failures[i] / (successes[i] + failures[i]);
                    if (failed > percent && !found.Exists(f => f.Index == i))
                    {
                        found.Add((i, FormattableString.Invariant($"{failed:0.#} % of {successes[i] + failures[i]} calls failed, more than {percent} %")));
                    }
                }
            }
        }

        found.Sort((a, b) => a.Index.CompareTo(b.Index));
        return found;
    }

    private static int[] Candidates(long[] successes, long[] failures, int requestVolume) =>
        [.. Enumerable.Range(0, successes.Length).Where(i => successes[i] + failures[i] >= requestVolume)];

    private static double Rate(long successes, long failures) => (double)successes / (successes + failures);
}
