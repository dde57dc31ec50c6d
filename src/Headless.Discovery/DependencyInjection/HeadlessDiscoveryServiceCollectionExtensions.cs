using Headless.Discovery;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Headless.Discovery services with a <see cref="IServiceCollection"/>.</summary>
public static class HeadlessDiscoveryServiceCollectionExtensions
{
    /// <summary>The root configuration section: <c>HeadlessDiscovery</c>; each service binds <c>HeadlessDiscovery:Services:&lt;key&gt;</c>.</summary>
    internal const string ConfigurationSectionName = "HeadlessDiscovery";

    /// <summary>
    /// Adds the shared infrastructure: the <see cref="IHeadlessServiceRegistry"/>, configuration binding and startup
    /// validation of every registered service, a hosted warm-up that starts the services with the host, and
    /// <see cref="TimeProvider.System"/> unless a <see cref="TimeProvider"/> is registered already. Idempotent: every
    /// registration is a <c>TryAdd</c>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddHeadlessDiscovery(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        GetOrAddKeys(services);
        services.AddOptions();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<HeadlessServiceConfiguration>();
        services.TryAddSingleton<HeadlessServiceOptionsValidator>();
        services.TryAddSingleton<HeadlessServiceRegistry>();
        services.TryAddSingleton<IHeadlessServiceRegistry>(static sp => sp.GetRequiredService<HeadlessServiceRegistry>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<HeadlessServiceOptions>, HeadlessServiceConfiguration>(static sp => sp.GetRequiredService<HeadlessServiceConfiguration>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<HeadlessServiceRegistrationOptions>, HeadlessServiceConfiguration>(static sp => sp.GetRequiredService<HeadlessServiceConfiguration>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<HeadlessServiceOptions>, HeadlessServiceOptionsValidator>(static sp => sp.GetRequiredService<HeadlessServiceOptionsValidator>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<HeadlessServiceRegistrationOptions>, HeadlessServiceOptionsValidator>(static sp => sp.GetRequiredService<HeadlessServiceOptionsValidator>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, HeadlessDiscoveryWarmup>());
        return services;
    }

    /// <summary>
    /// Registers the headless Service <paramref name="key"/>: its options are bound from
    /// <c>HeadlessDiscovery:Services:&lt;key&gt;</c> (keys of <see cref="HeadlessServiceOptions"/> and
    /// <see cref="HeadlessServiceRegistrationOptions"/>), then <paramref name="configure"/> runs, and both are validated
    /// when the host starts (<c>ValidateOnStart</c>) with a message naming the key and the option. The live service is a
    /// singleton resolved as <c>[FromKeyedServices("key")] IHeadlessService</c> or through <see cref="IHeadlessServiceRegistry"/>; its configured
    /// selector as <c>[FromKeyedServices("key")] IEndpointSelector</c>.
    /// Calls <see cref="AddHeadlessDiscovery"/>. Registering the same key again only adds <paramref name="configure"/>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="key">The service key: a configuration section name, not empty, without ':'.</param>
    /// <param name="configure">Optional code configuration, applied after the configuration section.</param>
    /// <returns>A builder to configure the service further.</returns>
    public static HeadlessServiceBuilder AddHeadlessService(this IServiceCollection services, string key, Action<HeadlessServiceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        if (key.Contains(':', StringComparison.Ordinal))
        {
            throw new ArgumentException($"The service key '{key}' must not contain ':' (it names a configuration section).", nameof(key));
        }

        services.AddHeadlessDiscovery();
        if (GetOrAddKeys(services).Add(key))
        {
            services.AddOptions<HeadlessServiceOptions>(key).ValidateOnStart();
            services.AddOptions<HeadlessServiceRegistrationOptions>(key).ValidateOnStart();
            services.TryAddKeyedSingleton<IHeadlessService>(key, static (sp, k) => sp.GetRequiredService<IHeadlessServiceRegistry>().GetService((string)k!));
            services.TryAddKeyedSingleton<IEndpointSelector>(key, static (sp, k) => sp.GetRequiredService<HeadlessServiceRegistry>().GetSelector((string)k!));
        }

        var builder = new HeadlessServiceBuilder(services, key);
        if (configure is not null)
        {
            services.Configure(key, configure);
        }

        return builder;
    }

    private static HeadlessServiceKeys GetOrAddKeys(IServiceCollection services)
    {
        foreach (ServiceDescriptor descriptor in services)
        {
            if (descriptor.ServiceType == typeof(HeadlessServiceKeys) && !descriptor.IsKeyedService && descriptor.ImplementationInstance is HeadlessServiceKeys existing)
            {
                return existing;
            }
        }

        var keys = new HeadlessServiceKeys();
        services.AddSingleton(keys);
        return keys;
    }
}
