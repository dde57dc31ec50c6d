using Grpc.Net.Client.Balancer;
using Headless.Discovery;
using Headless.Discovery.Grpc;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the <c>headless:///</c> gRPC resolver.</summary>
public static class HeadlessGrpcServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="HeadlessResolverFactory"/> as a gRPC <see cref="ResolverFactory"/>, so that a channel whose
    /// address is <c>headless:///&lt;key&gt;</c> (a key registered with <c>AddHeadlessService</c>) or
    /// <c>headless:///&lt;dns-name&gt;[:port]</c> balances over the pods of that headless Service. Channels created by
    /// <c>AddGrpcClient</c> find it through the application's services; a channel created by hand needs
    /// <c>GrpcChannelOptions.ServiceProvider</c> set. Adds the services <c>AddHeadlessService</c> needs.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options of a service created for a name that is not a registered key.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddHeadlessGrpcResolver(this IServiceCollection services, Action<HeadlessServiceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddHeadlessDiscovery();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ResolverFactory, HeadlessResolverFactory>(sp => new HeadlessResolverFactory(sp, configure)));
        return services;
    }
}
