using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Primitives;

namespace Headless.Discovery;

/// <summary>
/// A view of a service's configuration section in which every value bound to a <see cref="TimeSpan"/> option reads as
/// <see cref="TimeSpan"/> text, so the binder takes <c>500ms</c>, <c>5s</c> and <c>1m</c> as well as <c>00:00:05</c>
/// (the spellings of the CLI and README). A value that is no duration reads as absent, so binding goes on, and is
/// added to <paramref name="invalid"/> for validation to name with its key. Everything else passes through.
/// </summary>
/// <param name="inner">The section.</param>
/// <param name="types">The option types the section binds to (nested sections: the nested option's type).</param>
/// <param name="invalid">Collects <c>(path, value)</c> of values that are no duration.</param>
internal sealed class DurationSection(IConfigurationSection inner, Type[] types, ICollection<(string Path, string Value)> invalid) : IConfigurationSection
{
    public string Key => inner.Key;

    public string Path => inner.Path;

    public string? Value
    {
        get => inner.Value;
        set => inner.Value = value;
    }

    public string? this[string key]
    {
        get => GetSection(key).Value;
        set => inner[key] = value;
    }

    public IConfigurationSection GetSection(string key) => Wrap(inner.GetSection(key));

    public IEnumerable<IConfigurationSection> GetChildren() => inner.GetChildren().Select(Wrap);

    public IChangeToken GetReloadToken() => inner.GetReloadToken();

    /// <summary>The option property <paramref name="key"/> binds to in <paramref name="types"/> (case-insensitive, as the binder), or <see langword="null"/>.</summary>
    internal static PropertyInfo? FindProperty(Type[] types, string key)
    {
        foreach (Type type in types)
        {
            if (type.GetProperty(key, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase) is { } property)
            {
                return property;
            }
        }

        return null;
    }

    /// <summary>Whether <paramref name="type"/> is an options object the binder descends into.</summary>
    internal static bool IsOptionObject(Type type) =>
        type.IsClass && type != typeof(string) && !typeof(System.Collections.IEnumerable).IsAssignableFrom(type);

    private IConfigurationSection Wrap(IConfigurationSection child)
    {
        if (FindProperty(types, child.Key) is not { } property)
        {
            return child;
        }

        Type type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        if (type == typeof(TimeSpan))
        {
            return new DurationValue(child, invalid);
        }

        return IsOptionObject(type) ? new DurationSection(child, [type], invalid) : child;
    }

    /// <summary>One duration value, as <see cref="TimeSpan"/> text (<c>c</c> format), or absent when it is no duration.</summary>
    private sealed class DurationValue(IConfigurationSection inner, ICollection<(string Path, string Value)> invalid) : IConfigurationSection
    {
        public string Key => inner.Key;

        public string Path => inner.Path;

        public string? Value
        {
            get
            {
                string? text = inner.Value;
                if (text is null)
                {
                    return null;
                }

                if (DurationParser.TryParse(text, out TimeSpan value))
                {
                    return value.ToString("c", CultureInfo.InvariantCulture);
                }

                // The binder may read a value more than once: report it once.
                lock (invalid)
                {
                    if (!invalid.Contains((inner.Path, text)))
                    {
                        invalid.Add((inner.Path, text));
                    }
                }

                return null;
            }

            set => inner.Value = value;
        }

        public string? this[string key]
        {
            get => inner[key];
            set => inner[key] = value;
        }

        public IConfigurationSection GetSection(string key) => inner.GetSection(key);

        public IEnumerable<IConfigurationSection> GetChildren() => inner.GetChildren();

        public IChangeToken GetReloadToken() => inner.GetReloadToken();
    }
}
