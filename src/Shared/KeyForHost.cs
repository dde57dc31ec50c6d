namespace Headless.Discovery;

// Compiled into each integration that links it (not into the core, which has no use for it).

/// <summary>
/// Which registered key a URI host names: the exact key, else the one key equal to it ignoring case (a URI host arrives
/// lower-cased, so <c>http://Backend/</c> names the key <c>Backend</c>); <see langword="null"/> when none matches or two
/// keys differ only in case. Linked into the integrations that map hosts to keys (service discovery, YARP), so they
/// agree on the rule.
/// </summary>
internal static class KeyForHost
{
    internal static string? Find(IReadOnlyList<string> keys, string? host)
    {
        if (string.IsNullOrEmpty(host))
        {
            return null;
        }

        string? match = null;
        foreach (string key in keys)
        {
            if (string.Equals(key, host, StringComparison.Ordinal))
            {
                return key;
            }

            if (string.Equals(key, host, StringComparison.OrdinalIgnoreCase))
            {
                if (match is not null)
                {
                    return null; // ambiguous: Backend and BACKEND
                }

                match = key;
            }
        }

        return match;
    }
}
