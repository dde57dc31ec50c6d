using System.Collections;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Headless.Discovery;

/// <summary>
/// Binds <c>HeadlessDiscovery:Services:&lt;key&gt;</c> onto the named <see cref="HeadlessServiceOptions"/> and
/// <see cref="HeadlessServiceRegistrationOptions"/> of each registered key, from the container's <see cref="IConfiguration"/>
/// (when there is one).
/// </summary>
internal sealed class HeadlessServiceConfiguration(IServiceProvider services, HeadlessServiceKeys keys)
    : IConfigureNamedOptions<HeadlessServiceOptions>, IConfigureNamedOptions<HeadlessServiceRegistrationOptions>
{
    // Per key and option type: the values of the last binding that were no duration (path, value), for validation.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Key, Type Type), List<(string Path, string Value)>> _invalidDurations = new();

    /// <summary>The configuration path of a service key.</summary>
    public static string SectionPath(string key) =>
        HeadlessDiscoveryServiceCollectionExtensions.ConfigurationSectionName + ":Services:" + key;

    public void Configure(string? name, HeadlessServiceOptions options) => Bind(name, options);

    public void Configure(string? name, HeadlessServiceRegistrationOptions options) => Bind(name, options);

    public void Configure(HeadlessServiceOptions options) => Bind(Options.DefaultName, options);

    public void Configure(HeadlessServiceRegistrationOptions options) => Bind(Options.DefaultName, options);

    /// <summary>The service's configuration section, or <see langword="null"/> when there is no configuration or it has no such section.</summary>
    public IConfigurationSection? GetSection(string key)
    {
        IConfiguration? configuration = services.GetService<IConfiguration>();
        IConfigurationSection? section = configuration?.GetSection(SectionPath(key));
        return section is not null && section.Exists() ? section : null;
    }

    private void Bind(string? name, object options)
    {
        if (name is null || !keys.Contains(name))
        {
            return;
        }

        if (GetSection(name) is not { } section)
        {
            return;
        }

        // Durations are read the way the CLI reads them (500ms, 5s, 1m, 00:00:05); the others go to validation.
        var invalid = new List<(string Path, string Value)>();
        new DurationSection(section, [options.GetType()], invalid).Bind(options);
        _invalidDurations[(name, options.GetType())] = invalid;
    }

    /// <summary>
    /// <c>HeadlessDiscovery:Services:backend:MinRefreshInterval: '5 seconds' is not a duration: …</c>, for each value of
    /// the last binding of <paramref name="key"/>'s <paramref name="type"/> options that is no duration.
    /// </summary>
    public IEnumerable<string> DurationProblems(string key, Type type) =>
        _invalidDurations.TryGetValue((key, type), out List<(string Path, string Value)>? invalid)
            ? invalid.Select(i => $"{i.Path}: '{i.Value}' is not a duration: {DurationParser.Expected}.")
            : [];

    /// <summary>
    /// Lists the keys of <paramref name="section"/> that no option of <paramref name="types"/> binds (typos would
    /// otherwise be ignored silently), as full configuration paths. Nested option objects are checked too.
    /// </summary>
    public static List<string> FindUnknownKeys(IConfigurationSection section, params Type[] types)
    {
        var unknown = new List<string>();
        Check(section, types, unknown, depth: 0);
        return unknown;
    }

    private static void Check(IConfigurationSection section, Type[] types, List<string> unknown, int depth)
    {
        foreach (IConfigurationSection child in section.GetChildren())
        {
            PropertyInfo? property = DurationSection.FindProperty(types, child.Key);
            if (property is null)
            {
                unknown.Add(child.Path);
                continue;
            }

            Type propertyType = property.PropertyType;
            if (DurationSection.IsOptionObject(propertyType) && depth < 4)
            {
                Check(child, [propertyType], unknown, depth + 1);
            }
        }
    }
}
