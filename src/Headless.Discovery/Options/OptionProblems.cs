using System.Globalization;

namespace Headless.Discovery;

/// <summary>
/// Collects every problem of an options object (and of the options nested in it) so that validation reports all of them
/// at once. Durations that schedule repeated work or bound a wait have a floor: below it a typo (1 tick for 1 second)
/// would turn into a storm of queries, probes or timers against the very servers the library watches.
/// </summary>
/// <remarks>Not thread-safe: one validation run owns it.</remarks>
internal sealed class OptionProblems
{
    /// <summary>The floor of intervals that repeat work per service or per pod (refreshes, probes, ejections).</summary>
    public static readonly TimeSpan IntervalFloor = TimeSpan.FromMilliseconds(100);

    /// <summary>The floor of timeouts and first backoff delays.</summary>
    public static readonly TimeSpan TimeoutFloor = TimeSpan.FromMilliseconds(10);

    private readonly List<OptionProblem> _all;
    private readonly string _prefix;

    public OptionProblems()
        : this([], string.Empty)
    {
    }

    private OptionProblems(List<OptionProblem> all, string prefix)
    {
        _all = all;
        _prefix = prefix;
    }

    /// <summary>Every problem added so far, through this collector or any <see cref="Under"/> it.</summary>
    public IReadOnlyList<OptionProblem> All => _all;

    /// <summary>A view that adds to the same list with <paramref name="section"/> before each path (nested options).</summary>
    public OptionProblems Under(string section) => new(_all, _prefix + section + ".");

    /// <summary>Adds a problem of <paramref name="option"/> (a property name, or <c>Name[i]</c> for a list entry).</summary>
    public void Add(string option, string message) => _all.Add(new OptionProblem(_prefix + option, message));

    /// <summary>Throws one <see cref="InvalidOptionsException"/> listing every problem, if there is any.</summary>
    /// <param name="paramName">The parameter that carried the options, or <see langword="null"/>.</param>
    public void ThrowIfAny(string? paramName = null)
    {
        if (_all.Count > 0)
        {
            throw new InvalidOptionsException(_all.ToArray(), paramName);
        }
    }

    /// <summary>Adds a problem unless <paramref name="floor"/> &lt;= <paramref name="value"/> &lt;= <paramref name="max"/>.</summary>
    public void Duration(TimeSpan value, TimeSpan floor, TimeSpan max, string option)
    {
        if (value < floor)
        {
            Add(option, Invariant($"{value} is below the floor of {Format(floor)} (a smaller value would flood the servers it talks to)."));
        }
        else if (value > max)
        {
            Add(option, Invariant($"{value} must be at most {Format(max)}."));
        }
    }

    /// <summary>Adds a problem unless <paramref name="min"/> &lt;= <paramref name="value"/> &lt;= <paramref name="max"/>.</summary>
    public void Range(int value, int min, int max, string option)
    {
        if (value < min || value > max)
        {
            Add(option, Invariant($"{value} must be between {min} and {max}."));
        }
    }

    /// <summary>Adds a problem unless <paramref name="value"/> is a number from <paramref name="min"/> to <paramref name="max"/>.</summary>
    public void Range(double value, double min, double max, string option, string unit = "")
    {
        if (double.IsNaN(value) || value < min || value > max)
        {
            Add(option, Invariant($"{value} must be between {min} and {max}{unit}."));
        }
    }

    /// <summary>A duration as people write it: 100 ms, 30 s, 5 minutes, one day.</summary>
    internal static string Format(TimeSpan value) => value switch
    {
        { TotalSeconds: < 1 } => Invariant($"{value.TotalMilliseconds:0.###} ms"),
        { TotalDays: 1 } => "one day",
        { TotalMinutes: >= 1 } when value.Ticks % TimeSpan.TicksPerMinute == 0 => Invariant($"{value.TotalMinutes:0} minutes"),
        _ => Invariant($"{value.TotalSeconds:0.###} s"),
    };

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
