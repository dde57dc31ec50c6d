using System.Globalization;

namespace Headless.Discovery;

/// <summary>The kinds of selector a registration can name.</summary>
internal enum SelectorKind
{
    RoundRobin,
    Random,
    PowerOfTwoChoices,
    PickFirst,
    Ordinal,
    Subset,
}

/// <summary>A parsed <see cref="HeadlessServiceRegistrationOptions.Selector"/> value.</summary>
internal readonly record struct SelectorSpec(SelectorKind Kind, int Argument)
{
    internal const string Expected = "expected RoundRobin, Random, PowerOfTwoChoices, PickFirst, Ordinal[:<n>] or Subset:<size>";

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
            return Expected + ".";
        }

        int argument = 0;
        if (argumentText is not null)
        {
            if (kind is not (SelectorKind.Ordinal or SelectorKind.Subset))
            {
                return $"{kind} takes no argument; " + Expected + ".";
            }

            if (!int.TryParse(argumentText, NumberStyles.None, CultureInfo.InvariantCulture, out argument))
            {
                return $"'{argumentText}' is not a whole number 0 or more.";
            }
        }

        if (kind == SelectorKind.Subset && argument < 1)
        {
            return "Subset needs a size of 1 or more, e.g. Subset:3.";
        }

        spec = new SelectorSpec(kind, argument);
        return null;
    }
}
