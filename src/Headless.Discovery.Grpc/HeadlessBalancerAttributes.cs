using Grpc.Net.Client.Balancer;

namespace Headless.Discovery.Grpc;

/// <summary>
/// The attributes a <c>headless:///</c> resolver puts on each <see cref="BalancerAddress"/>, for a custom load balancer
/// or picker that routes by StatefulSet identity (for example to the primary, ordinal 0).
/// </summary>
public static class HeadlessBalancerAttributes
{
    /// <summary>The pod's hostname (<c>web-0.web.default.svc.cluster.local</c>), when SRV answers gave one.</summary>
    public static readonly BalancerAttributesKey<string> Hostname = new("headless-discovery.hostname");

    /// <summary>The pod's StatefulSet ordinal (0 for <c>web-0</c>), when its hostname has one.</summary>
    public static readonly BalancerAttributesKey<int> Ordinal = new("headless-discovery.ordinal");
}
