using System.Globalization;

namespace Headless.Discovery;

/// <summary>Which completion rule a fan-out follows.</summary>
internal enum FanOutModeKind
{
    /// <summary>Call every pod; the goal is met when every call succeeds.</summary>
    All = 0,

    /// <summary>Complete as soon as <see cref="FanOutMode.QuorumCount"/> calls succeed; fail fast once that can no longer happen.</summary>
    Quorum = 1,

    /// <summary>Hedged: call one pod, add another after <see cref="FanOutMode.HedgeDelay"/> or a failure; complete on the first success.</summary>
    FirstSuccess = 2,
}

/// <summary>
/// The completion rule of <see cref="HeadlessServiceFanOutExtensions.FanOutAsync{T}"/>: <see cref="All"/>,
/// <see cref="Quorum(int)"/> or <see cref="FirstSuccess(TimeSpan?)"/>. Immutable; <see cref="ToString"/> gives the
/// text <see cref="TryParse"/> reads (<c>all</c>, <c>quorum:3</c>, <c>first:100</c>).
/// </summary>
public sealed class FanOutMode
{
    /// <summary>The default hedge delay of <see cref="FirstSuccess(TimeSpan?)"/>: 100 ms.</summary>
    internal static readonly TimeSpan DefaultHedgeDelay = TimeSpan.FromMilliseconds(100);

    private FanOutMode(FanOutModeKind kind, int quorumCount, TimeSpan hedgeDelay)
    {
        Kind = kind;
        QuorumCount = quorumCount;
        HedgeDelay = hedgeDelay;
    }

    /// <summary>Call every targeted pod (bounded by the parallelism); the goal is met when all of them succeed (and there is at least one).</summary>
    public static FanOutMode All { get; } = new(FanOutModeKind.All, 0, Timeout.InfiniteTimeSpan);

    /// <summary>The rule.</summary>
    internal FanOutModeKind Kind { get; }

    /// <summary>For <see cref="FanOutModeKind.Quorum"/>: how many successes complete the fan-out; 0 otherwise.</summary>
    internal int QuorumCount { get; }

    /// <summary>
    /// For <see cref="FanOutModeKind.FirstSuccess"/>: how long to wait for the calls in flight before starting another
    /// pod; <see cref="Timeout.InfiniteTimeSpan"/> to add pods only after failures. Infinite for the other modes.
    /// </summary>
    internal TimeSpan HedgeDelay { get; }

    /// <summary>Complete as soon as <paramref name="count"/> pods succeed and cancel the rest; fail fast once <paramref name="count"/> successes are out of reach.</summary>
    /// <param name="count">The number of successes needed, 1 or more.</param>
    /// <returns>The mode.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is less than 1.</exception>
    public static FanOutMode Quorum(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        return new FanOutMode(FanOutModeKind.Quorum, count, Timeout.InfiniteTimeSpan);
    }

    /// <summary>
    /// Hedged request: start with one pod (a random one, so clients spread), add the next after
    /// <paramref name="hedgeDelay"/> without an answer or right after a failure, up to the parallelism bound; complete on
    /// the first success and cancel the rest.
    /// </summary>
    /// <param name="hedgeDelay">The hedge delay, positive or <see cref="Timeout.InfiniteTimeSpan"/> (failures only). Default 100 ms.</param>
    /// <returns>The mode.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="hedgeDelay"/> is zero or negative (other than infinite).</exception>
    public static FanOutMode FirstSuccess(TimeSpan? hedgeDelay = null)
    {
        TimeSpan delay = hedgeDelay ?? DefaultHedgeDelay;
        if (delay != Timeout.InfiniteTimeSpan && delay <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(hedgeDelay), delay, "The hedge delay must be positive, or Timeout.InfiniteTimeSpan to hedge only after failures.");
        }

        return new FanOutMode(FanOutModeKind.FirstSuccess, 0, delay);
    }

    /// <summary>Parses <c>all</c>, <c>quorum:&lt;k&gt;</c>, <c>first</c> or <c>first:&lt;hedge ms&gt;</c> (case-insensitive).</summary>
    /// <param name="text">The text.</param>
    /// <param name="mode">The mode, or <see langword="null"/>.</param>
    /// <returns><see langword="true"/> when the text is a valid mode.</returns>
    public static bool TryParse(string? text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out FanOutMode? mode)
    {
        mode = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        string t = text.Trim().ToLowerInvariant();
        if (t == "all")
        {
            mode = All;
        }
        else if (t == "first")
        {
            mode = FirstSuccess();
        }
        else if (t.StartsWith("quorum:", StringComparison.Ordinal) && int.TryParse(t.AsSpan(7), NumberStyles.None, CultureInfo.InvariantCulture, out int k) && k >= 1)
        {
            mode = Quorum(k);
        }
        else if (t.StartsWith("first:", StringComparison.Ordinal) && int.TryParse(t.AsSpan(6), NumberStyles.None, CultureInfo.InvariantCulture, out int ms) && ms >= 1)
        {
            mode = FirstSuccess(TimeSpan.FromMilliseconds(ms));
        }

        return mode is not null;
    }

    /// <summary><c>all</c>, <c>quorum:&lt;k&gt;</c> or <c>first</c>.</summary>
    public override string ToString() => Kind switch
    {
        FanOutModeKind.Quorum => string.Create(CultureInfo.InvariantCulture, $"quorum:{QuorumCount}"),
        FanOutModeKind.FirstSuccess => "first",
        _ => "all",
    };
}
