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

        GetSection(name)?.Bind(options);
    }

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
            PropertyInfo? property = null;
            foreach (Type type in types)
            {
                property = type.GetProperty(child.Key, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
                if (property is not null)
                {
                    break;
                }
            }

            if (property is null)
            {
                unknown.Add(child.Path);
                continue;
            }

            Type propertyType = property.PropertyType;
            bool isOptionObject = propertyType.IsClass && propertyType != typeof(string) && !typeof(IEnumerable).IsAssignableFrom(propertyType);
            if (isOptionObject && depth < 4)
            {
                Check(child, [propertyType], unknown, depth + 1);
            }
        }
    }
}
