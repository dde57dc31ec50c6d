using Headless.Discovery;
using Headless.Discovery.ServiceDiscovery;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.ServiceDiscovery;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Lets Microsoft.Extensions.ServiceDiscovery resolve the headless services registered with <c>AddHeadlessService</c>.</summary>
public static class HeadlessServiceEndpointProviderServiceCollectionExtensions
{
    /// <summary>
    /// Adds a Microsoft.Extensions.ServiceDiscovery endpoint provider backed by Headless.Discovery's live sets.
    /// <para>
    /// <b>Which queries.</b> A query whose service name is a key given to <c>AddHeadlessService</c> (<c>http://backend</c>,
    /// <c>https+http://backend</c> → key <c>backend</c>; exact key first, else the only key equal ignoring case, since
    /// URI hosts arrive lower-cased) and that names no endpoint. Everything else (unknown names, named endpoints such as
    /// <c>http://_grpc.backend</c>: a registration is one DNS name and one port) is not claimed and goes to the other
    /// providers (configuration, DNS, pass-through) as if this one were not there. Schemes are not filtered: the
    /// endpoints are plain <see cref="System.Net.IPEndPoint"/>s, so the request keeps its scheme (the first of
    /// <c>https+http</c>).
    /// </para>
    /// <para>
    /// <b>What it answers.</b> It waits for the service's first resolution, then adds one <see cref="ServiceEndpoint"/>
    /// per pod in <see cref="EndpointSet.Available"/> (healthy and not ejected; every pod in panic mode), with the
    /// <see cref="PodEndpoint"/> itself as a feature (<c>endpoint.Features.Get&lt;PodEndpoint&gt;()</c>, e.g. for
    /// <see cref="IHeadlessService.ReportOutcome"/>), and a change token that fires as soon as the available pods change
    /// (a pod added or removed, turned unhealthy, ejected or back), so service discovery re-resolves at once instead of
    /// polling. Like service discovery's own providers it adds nothing when an earlier provider already supplied
    /// endpoints (a configuration override, when that provider is registered first). With no pod available it adds none:
    /// later providers answer (with <c>AddServiceDiscovery()</c>, pass-through: the service name itself) until the token
    /// brings the pods back.
    /// </para>
    /// <para>
    /// The registry owns the services; the provider owns nothing (disposing it only unsubscribes). Call it with or after
    /// <c>AddServiceDiscovery()</c>/<c>AddServiceDiscoveryCore()</c>; idempotent.
    /// </para>
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Provider options.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddHeadlessServiceEndpointProvider(this IServiceCollection services, Action<HeadlessServiceEndpointProviderOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddHeadlessDiscovery();
        services.AddOptions<HeadlessServiceEndpointProviderOptions>();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IServiceEndpointProviderFactory, HeadlessServiceEndpointProviderFactory>());
        return services;
    }
}
