using System.Diagnostics.CodeAnalysis;

namespace Headless.Discovery;

/// <summary>
/// A validated, fully qualified DNS name of a headless Service (or of its SRV records), lower case, without the
/// trailing dot. Build one with <see cref="Parse"/> for a name used as given, or with <c>Qualify</c> to expand a
/// short Kubernetes name such as <c>headless-nginx</c> the way a pod's resolver would.
/// </summary>
/// <remarks>Immutable; compares case-insensitively (names are stored lower case).</remarks>
public sealed partial class ServiceName : IEquatable<ServiceName>
{
    /// <summary>The longest DNS name in text form, without the trailing dot.</summary>
    internal const int MaxLength = 253;

    /// <summary>The longest DNS label.</summary>
    internal const int MaxLabelLength = 63;

    private ServiceName(string value) => Value = value;

    /// <summary>The fully qualified name, lower case, without a trailing dot (<c>web.default.svc.cluster.local</c>).</summary>
    public string Value { get; }

    /// <summary>
    /// Validates <paramref name="name"/> and uses it as given (a trailing dot is removed); no search list is applied.
    /// </summary>
    /// <param name="name">A DNS name such as <c>web.default.svc.cluster.local</c> or <c>_http._tcp.web.default.svc.cluster.local.</c>.</param>
    /// <returns>The service name.</returns>
    /// <exception cref="ArgumentException">The name is empty or not a valid DNS name; the message says what is wrong.</exception>
    public static ServiceName Parse(string name)
    {
        if (!TryParse(name, out ServiceName? result, out string? error))
        {
            throw new ArgumentException(error, nameof(name));
        }

        return result;
    }

    /// <summary>Validates <paramref name="name"/> without throwing.</summary>
    /// <param name="name">The name to check.</param>
    /// <param name="result">The service name when valid.</param>
    /// <returns><see langword="true"/> when the name is valid.</returns>
    public static bool TryParse([NotNullWhen(true)] string? name, [NotNullWhen(true)] out ServiceName? result) =>
        TryParse(name, out result, out _);

    internal static bool TryParse([NotNullWhen(true)] string? name, [NotNullWhen(true)] out ServiceName? result, [NotNullWhen(false)] out string? error)
    {
        result = null;
        error = Validate(name);
        if (error is not null)
        {
            return false;
        }

        string value = name!.Trim();
        if (value.EndsWith('.'))
        {
            value = value[..^1];
        }

        result = new ServiceName(value.ToLowerInvariant());
        return true;
    }

    /// <summary>Returns <see langword="null"/> when valid, else a message naming the problem.</summary>
    internal static string? Validate(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return "The service name is empty.";
        }

        string value = name.Trim();
        if (value.EndsWith('.'))
        {
            value = value[..^1];
        }

        if (value.Length == 0)
        {
            return $"The service name '{name}' has no labels.";
        }

        if (value.Length > MaxLength)
        {
            return $"The service name '{Shorten(name)}' is {value.Length} characters long; a DNS name has at most {MaxLength}.";
        }

        int labelIndex = 0;
        foreach (Range range in value.AsSpan().Split('.'))
        {
            ReadOnlySpan<char> label = value.AsSpan()[range];
            labelIndex++;
            if (label.Length == 0)
            {
                return $"The service name '{name}' has an empty label (label {labelIndex}): two dots in a row, or a leading dot.";
            }

            if (label.Length > MaxLabelLength)
            {
                return $"Label {labelIndex} of the service name '{Shorten(name)}' is {label.Length} characters long; a DNS label has at most {MaxLabelLength}.";
            }

            // SRV owner names start with "_service._proto" labels.
            ReadOnlySpan<char> body = label[0] == '_' ? label[1..] : label;
            if (body.Length == 0)
            {
                return $"Label {labelIndex} ('{label}') of the service name '{name}' is only an underscore.";
            }

            foreach (char c in body)
            {
                if (!(char.IsAsciiLetterOrDigit(c) || c == '-' || c == '_'))
                {
                    return $"Label {labelIndex} ('{label}') of the service name '{name}' contains '{c}'; only letters, digits, '-' and (in SRV labels) '_' are allowed.";
                }
            }

            if (body[0] == '-' || body[^1] == '-')
            {
                return $"Label {labelIndex} ('{label}') of the service name '{name}' starts or ends with '-'.";
            }
        }

        return null;
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : string.Concat(text.AsSpan(0, 37), "...");

    /// <inheritdoc/>
    public bool Equals(ServiceName? other) => other is not null && string.Equals(Value, other.Value, StringComparison.Ordinal);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as ServiceName);

    /// <inheritdoc/>
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Value);

    /// <summary>Returns <see cref="Value"/>.</summary>
    public override string ToString() => Value;

    /// <summary>Equality by value.</summary>
    public static bool operator ==(ServiceName? left, ServiceName? right) => left is null ? right is null : left.Equals(right);

    /// <summary>Inequality by value.</summary>
    public static bool operator !=(ServiceName? left, ServiceName? right) => !(left == right);
}
