using Microsoft.Extensions.DependencyInjection;

namespace Headless.Discovery;

/// <summary>
/// Returned by <c>AddHeadlessService</c>: configures one registered service further. Configuration callbacks run after
/// the configuration section is bound, in the order they were added, when the service is first created.
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

    /// <summary>Configures the service's <see cref="HeadlessServiceOptions"/> (after configuration binding).</summary>
    /// <param name="configure">Changes the options.</param>
    /// <returns>This builder.</returns>
    public HeadlessServiceBuilder Configure(Action<HeadlessServiceOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        Services.Configure(Key, configure);
        return this;
    }

    /// <summary>Configures the service's <see cref="HeadlessServiceRegistrationOptions"/> (selector, startup wait).</summary>
    /// <param name="configure">Changes the options.</param>
    /// <returns>This builder.</returns>
    public HeadlessServiceBuilder ConfigureRegistration(Action<HeadlessServiceRegistrationOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        Services.Configure(Key, configure);
        return this;
    }

    /// <summary>Makes host startup wait until <paramref name="minEndpoints"/> endpoints are resolved.</summary>
    /// <param name="minEndpoints">The endpoints to wait for, 1 or more.</param>
    /// <param name="timeout">The longest wait. Default: 30 seconds.</param>
    /// <param name="failOnTimeout"><see langword="true"/> (default) stops the host when the wait times out; <see langword="false"/> logs a warning.</param>
    /// <returns>This builder.</returns>
    public HeadlessServiceBuilder WaitForEndpointsOnStartup(int minEndpoints = 1, TimeSpan? timeout = null, bool failOnTimeout = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minEndpoints, 1);
        return ConfigureRegistration(o =>
        {
            o.MinEndpoints = minEndpoints;
            o.StartupTimeout = timeout ?? o.StartupTimeout;
            o.FailOnStartupTimeout = failOnTimeout;
        });
    }
}
