using ARSoft.Tools.Net;

namespace Headless.Discovery.Testing;

/// <summary>The embedded server's name and TTL rules: names are case-insensitive, a trailing dot is optional, TTLs are whole seconds.</summary>
internal static class DnsNames
{
    /// <summary>The zone key of a name received in a query.</summary>
    public static string FromQuery(DomainName name) =>
        name.ToString(true).TrimEnd('.').ToLowerInvariant();

    /// <summary>The zone key of a name given by a test; throws when it is not a valid DNS name.</summary>
    public static string Normalize(string name, string paramName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name, paramName);
        var trimmed = name.Trim();
        if (trimmed.EndsWith('.'))
        {
            trimmed = trimmed[..^1];
        }

        if (trimmed.Length == 0 || trimmed.Length > 253 || trimmed.Contains("..", StringComparison.Ordinal)
            || !DomainName.TryParse(trimmed, out var parsed) || parsed is null || parsed.Labels.Any(l => l.Length is 0 or > 63))
        {
            throw new ArgumentException($"'{name}' is not a valid DNS name.", paramName);
        }

        return trimmed.ToLowerInvariant();
    }

    /// <summary>A TTL in whole seconds (fractions truncated); throws when negative or too large.</summary>
    public static int ToTtlSeconds(TimeSpan ttl, string paramName)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ttl, TimeSpan.Zero, paramName);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ttl, TimeSpan.FromSeconds(int.MaxValue), paramName);
        return (int)ttl.TotalSeconds;
    }
}
