using System.Globalization;

namespace Headless.Discovery;

/// <summary>
/// Range checks shared by the options types, with messages that name the option. Durations that schedule repeated work
/// or bound a wait have a floor: below it a typo (1 tick for 1 second) would turn into a storm of queries, probes or
/// timers against the very servers the library watches.
/// </summary>
internal static class OptionChecks
{
    /// <summary>The floor of intervals that repeat work per service or per pod (refreshes, probes, ejections).</summary>
    public static readonly TimeSpan IntervalFloor = TimeSpan.FromMilliseconds(100);

    /// <summary>The floor of timeouts and first backoff delays.</summary>
    public static readonly TimeSpan TimeoutFloor = TimeSpan.FromMilliseconds(10);

    /// <summary>Throws unless <paramref name="floor"/> &lt;= <paramref name="value"/> &lt;= <paramref name="max"/>.</summary>
    /// <param name="value">The option's value.</param>
    /// <param name="floor">The least accepted value.</param>
    /// <param name="max">The greatest accepted value.</param>
    /// <param name="display">How the message names the option, e.g. <c>Health.Interval</c>.</param>
    /// <param name="paramName">The property name, for <see cref="ArgumentException.ParamName"/>.</param>
    public static void Duration(TimeSpan value, TimeSpan floor, TimeSpan max, string display, string paramName)
    {
        if (value < floor)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"{display} = {value} is below the floor of {Format(floor)} (a smaller value would flood the servers it talks to)."),
                paramName);
        }

        if (value > max)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{display} = {value} must be at most {Format(max)}."), paramName);
        }
    }

    /// <summary>A duration as people write it: 100 ms, 30 s, 5 minutes, one day.</summary>
    internal static string Format(TimeSpan value) => value switch
    {
        { TotalSeconds: < 1 } => string.Create(CultureInfo.InvariantCulture, $"{value.TotalMilliseconds:0.###} ms"),
        { TotalDays: 1 } => "one day",
        { TotalMinutes: >= 1 } when value.Ticks % TimeSpan.TicksPerMinute == 0 => string.Create(CultureInfo.InvariantCulture, $"{value.TotalMinutes:0} minutes"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{value.TotalSeconds:0.###} s"),
    };
}
