using Microsoft.Extensions.DependencyInjection;

namespace Headless.Discovery;

/// <summary>
/// Returned by <c>AddHeadlessService</c>: configures how one registered service is used (its selector, the startup wait),
/// and is what integrations extend. The service's own options are configured by <c>AddHeadlessService</c>'s callback and
/// the configuration section; callbacks run after the section is bound, in the order they were added, when the service
/// is first created.
/// </summary>
public sealed class HeadlessServiceBuilder
{
    internal HeadlessServiceBuilder(IServiceCollection services, string key)
    {
        Services = services;
        Key = key;
    }

    /// <summary>The service collection.</summary>
    public IServiceCollection Services { get; }

    /// <summary>The service key (the name of the options, the keyed-service key and the configuration section name).</summary>
    public string Key { get; }

    /// <summary>Configures the service's <see cref="HeadlessServiceRegistrationOptions"/> (selector, startup wait).</summary>
    /// <param name="configure">Changes the options.</param>
    /// <returns>This builder.</returns>
    public HeadlessServiceBuilder ConfigureRegistration(Action<HeadlessServiceRegistrationOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        Services.Configure(Key, configure);
        return this;
    }
}
