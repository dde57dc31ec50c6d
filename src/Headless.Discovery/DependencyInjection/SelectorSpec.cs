using System.Globalization;

namespace Headless.Discovery;

/// <summary>The kinds of selector a registration can name.</summary>
internal enum SelectorKind
{
    RoundRobin,
    Random,
    LeastRequest,
    PickFirst,
    Ordinal,
    Subset,
}

/// <summary>A parsed <see cref="HeadlessServiceRegistrationOptions.Selector"/> value.</summary>
/// <param name="Kind">The selector.</param>
/// <param name="Argument">The ordinal, subset size or least-request choice count (0 when none was given; 2 for a bare LeastRequest).</param>
/// <param name="StatefulSet">The StatefulSet of <c>Ordinal:&lt;set&gt;:&lt;n&gt;</c> (lower case), else <see langword="null"/>.</param>
internal readonly record struct SelectorSpec(SelectorKind Kind, int Argument, string? StatefulSet = null)
{
    /// <summary>Whether the selector can ramp joining pods (<see cref="SlowStartOptions"/>).</summary>
    internal bool Ramps => Kind is SelectorKind.RoundRobin or SelectorKind.Random or SelectorKind.LeastRequest;

    internal const string Expected = "expected RoundRobin, Random, LeastRequest[:<choices>], PickFirst, Ordinal[:<n>], Ordinal:<set>:<n> or Subset:<size>";

    /// <summary>Parses a selector specification.</summary>
    /// <returns>An error message, or <see langword="null"/> when <paramref name="text"/> is valid.</returns>
    public static string? TryParse(string? text, out SelectorSpec spec)
    {
        spec = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return Expected + ".";
        }

        string trimmed = text.Trim();
        int colon = trimmed.IndexOf(':', StringComparison.Ordinal);
        string kindText = colon < 0 ? trimmed : trimmed[..colon];
        string? argumentText = colon < 0 ? null : trimmed[(colon + 1)..].Trim();
        if (!Enum.TryParse(kindText, ignoreCase: true, out SelectorKind kind) || !Enum.IsDefined(kind) || int.TryParse(kindText, out _))
        {
            return IsPowerOfTwoChoices(kindText) ? "power of two choices is LeastRequest (two choices by default); " + Expected + "." : Expected + ".";
        }

        int argument = 0;
        string? statefulSet = null;
        if (argumentText is not null)
        {
            if (kind is not (SelectorKind.Ordinal or SelectorKind.Subset or SelectorKind.LeastRequest))
            {
                return $"{kind} takes no argument; " + Expected + ".";
            }

            // Ordinal:<set>:<n> names the StatefulSet; the ordinal is always the last part.
            int last = argumentText.LastIndexOf(':');
            if (kind == SelectorKind.Ordinal && last >= 0)
            {
                string set = argumentText[..last].Trim().ToLowerInvariant();
                if (!PodEndpoint.IsStatefulSetName(set))
                {
                    return $"'{set}' is not a StatefulSet name (letters, digits and '-', not starting or ending with '-'); " + Expected + ".";
                }

                statefulSet = set;
                argumentText = argumentText[(last + 1)..].Trim();
            }

            if (!int.TryParse(argumentText, NumberStyles.None, CultureInfo.InvariantCulture, out argument))
            {
                return kind == SelectorKind.Ordinal && statefulSet is null
                    ? $"'{argumentText}' is not a whole number 0 or more (to name a StatefulSet, write Ordinal:<set>:<n>, e.g. Ordinal:db:0)."
                    : $"'{argumentText}' is not a whole number 0 or more.";
            }
        }

        if (RangeError(kind, argumentText is null, ref argument) is { } rangeError)
        {
            return rangeError;
        }

        spec = new SelectorSpec(kind, argument, statefulSet);
        return null;
    }

    /// <summary>Whether <paramref name="kind"/> is another library's name for <c>LeastRequest</c> with two choices.</summary>
    private static bool IsPowerOfTwoChoices(string kind) =>
        kind.Equals("PowerOfTwoChoices", StringComparison.OrdinalIgnoreCase) || kind.Equals("p2c", StringComparison.OrdinalIgnoreCase);

    /// <summary>The argument's range rule of <paramref name="kind"/>; a bare <c>LeastRequest</c> gets its default of 2 choices.</summary>
    private static string? RangeError(SelectorKind kind, bool bare, ref int argument)
    {
        if (kind == SelectorKind.Subset && argument < 1)
        {
            return "Subset needs a size of 1 or more, e.g. Subset:3.";
        }

        if (kind != SelectorKind.LeastRequest)
        {
            return null;
        }

        if (bare)
        {
            argument = 2;
            return null;
        }

        return argument is < 2 or > LeastRequestSelector.MaxChoiceCount
            ? $"LeastRequest compares 2 to {LeastRequestSelector.MaxChoiceCount} pods per pick, e.g. LeastRequest:3."
            : null;
    }
}
