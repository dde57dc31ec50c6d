using Headless.Discovery;
using Headless.Discovery.Yarp;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Yarp.ReverseProxy.ServiceDiscovery;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Lets YARP send to the pods of the headless services registered with <c>AddHeadlessService</c>.</summary>
public static class HeadlessDiscoveryReverseProxyBuilderExtensions
{
    /// <summary>
    /// Registers a YARP <see cref="IDestinationResolver"/> backed by Headless.Discovery's live sets.
    /// <para>
    /// <b>Which destinations.</b> A cluster destination whose address host is a key given to <c>AddHeadlessService</c>
    /// (<c>"Address": "http://backend/"</c> → key <c>backend</c>; the exact key, else the only key equal ignoring case)
    /// becomes one destination per pod. Every other destination passes through unchanged. YARP uses one destination
    /// resolver: this one replaces YARP's default (and <c>AddDnsDestinationResolver</c>, if that was called before).
    /// </para>
    /// <para>
    /// <b>What each pod destination is.</b> Its name is the pod's hostname when the service resolves SRV records
    /// (<c>web-0.backend.shop.svc.cluster.local</c>, StatefulSet ordinal included), else its <c>address:port</c>
    /// (<c>10.1.2.3:8080</c>, <c>[fd00::3]:8080</c>): the same pod keeps its name across refreshes, so YARP keeps its
    /// health and load-balancing state. When a cluster has several destinations naming services, each pod name is
    /// prefixed with the configured name and a slash (<c>primary/10.1.2.3:8080</c>). Its address is the configured one with the
    /// host replaced by the pod's IP (IPv6 in brackets) and the port by the one the configured address writes, else the
    /// pod's (the service's port), else the scheme's default; scheme, path and query are kept. The configured
    /// <c>Health</c> address is rewritten the same way when its host names the same key. Its <c>Host</c> (the default
    /// <c>Host</c> header and TLS name) is the configured one, else the configured address's host (<c>backend</c>), so
    /// pods see the name the proxy was configured with rather than an IP. Metadata is copied.
    /// </para>
    /// <para>
    /// <b>Health.</b> With <see cref="HeadlessDestinationOptions.ApplyDiscoveryHealth"/> (the default) only pods in
    /// <see cref="EndpointSet.Available"/> are destinations: a pod this library finds unhealthy or ejects is removed
    /// from YARP and comes back when it recovers. Turn it off to hand YARP every pod and let YARP's health checks decide.
    /// </para>
    /// <para>
    /// <b>Changes.</b> The first resolution waits for each service's first DNS answer (YARP starts after it). The
    /// returned change token fires on every snapshot the services involved publish (a pod added or removed, a health
    /// change), so YARP re-resolves at once instead of polling. Idempotent.
    /// </para>
    /// </summary>
    /// <param name="builder">The reverse proxy builder returned by <c>AddReverseProxy()</c>.</param>
    /// <param name="configure">Resolver options.</param>
    /// <returns><paramref name="builder"/>.</returns>
    public static IReverseProxyBuilder AddHeadlessDiscoveryDestinations(this IReverseProxyBuilder builder, Action<HeadlessDestinationOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        IServiceCollection services = builder.Services;
        services.AddHeadlessDiscovery();
        services.AddOptions<HeadlessDestinationOptions>();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddSingleton<HeadlessDestinationResolver>();
        services.RemoveAll<IDestinationResolver>();
        services.AddSingleton<IDestinationResolver>(static sp => sp.GetRequiredService<HeadlessDestinationResolver>());
        return builder;
    }
}
