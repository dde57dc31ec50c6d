using System.Globalization;

namespace Headless.Discovery;

/// <summary>
/// Parses durations as people write them, on the command line and in configuration: <c>500ms</c>, <c>5s</c>, <c>1.5s</c>, <c>1m</c>, <c>2h</c>, combinations
/// such as <c>1m30s</c>, and plain <see cref="TimeSpan"/> text (<c>00:00:05</c>).
/// </summary>
/// <remarks>Compiled into the CLI as well (a linked file), so that both read the same spellings.</remarks>
internal static class DurationParser
{
    /// <summary>What a duration looks like, for error messages.</summary>
    public const string Expected = "use e.g. 500ms, 5s, 1m, 1m30s or 00:00:05";

    /// <summary>Parses <paramref name="text"/>; negative durations are rejected.</summary>
    /// <param name="text">The text to parse.</param>
    /// <param name="value">The duration when the text is valid.</param>
    /// <returns><see langword="true"/> when the text is a valid, non-negative duration.</returns>
    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        ReadOnlySpan<char> s = text.AsSpan().Trim();
        if (s.Contains(':'))
        {
            return TimeSpan.TryParse(s, CultureInfo.InvariantCulture, out value) && value >= TimeSpan.Zero;
        }

        TimeSpan total = TimeSpan.Zero;
        int parts = 0;
        while (!s.IsEmpty)
        {
            // Bounded: every iteration consumes at least one number and one unit.
            int numberLength = 0;
            while (numberLength < s.Length && (char.IsAsciiDigit(s[numberLength]) || s[numberLength] == '.'))
            {
                numberLength++;
            }

            if (numberLength == 0
                || !double.TryParse(s[..numberLength], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double number))
            {
                return false;
            }

            s = s[numberLength..];
            int unitLength = 0;
            while (unitLength < s.Length && char.IsAsciiLetter(s[unitLength]))
            {
                unitLength++;
            }

            double? unitMs = UnitInMilliseconds(s[..unitLength]);
            if (unitMs is null)
            {
                return false;
            }

            s = s[unitLength..];
            double ms = number * unitMs.Value;
            if (double.IsNaN(ms) || double.IsInfinity(ms) || ms > TimeSpan.MaxValue.TotalMilliseconds - total.TotalMilliseconds)
            {
                return false;
            }

            total += TimeSpan.FromMilliseconds(ms);
            parts++;
        }

        value = total;
        return parts > 0;
    }

    /// <summary>Formats a duration the way <see cref="TryParse"/> reads it (<c>500ms</c>, <c>5s</c>, <c>1.5s</c>, <c>2m</c>).</summary>
    /// <param name="value">The duration.</param>
    /// <returns>The short text.</returns>
    public static string Format(TimeSpan value)
    {
        if (value < TimeSpan.FromSeconds(1))
        {
            return value.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture) + "ms";
        }

        if (value < TimeSpan.FromMinutes(1) || value.Ticks % TimeSpan.TicksPerMinute != 0)
        {
            return value.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s";
        }

        return value.Ticks % TimeSpan.TicksPerHour == 0
            ? value.TotalHours.ToString("0", CultureInfo.InvariantCulture) + "h"
            : value.TotalMinutes.ToString("0", CultureInfo.InvariantCulture) + "m";
    }

    private static double? UnitInMilliseconds(ReadOnlySpan<char> unit) => unit switch
    {
        "ms" => 1,
        "s" or "sec" => 1000,
        "m" or "min" => 60_000,
        "h" => 3_600_000,
        _ => null,
    };
}
