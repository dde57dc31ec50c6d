namespace Headless.Discovery.ServiceDiscovery;

/// <summary>Options of the Microsoft.Extensions.ServiceDiscovery endpoint provider added by <c>AddHeadlessServiceEndpointProvider</c>.</summary>
public sealed class HeadlessServiceEndpointProviderOptions
{
    /// <summary>
    /// When <see langword="true"/>, every endpoint of a pod whose hostname is known (SRV answers, e.g.
    /// <c>web-0.web.shop.svc.cluster.local</c>) carries an <see cref="Microsoft.Extensions.ServiceDiscovery.IHostNameFeature"/>
    /// with that hostname, which service discovery's HTTP handler sends as the <c>Host</c> header. Pods resolved from
    /// A/AAAA records have no hostname and never get the feature. Default: <see langword="false"/>, like service
    /// discovery's own DNS providers: the <c>Host</c> header is then the pod's address and port.
    /// </summary>
    public bool ApplyHostNameMetadata { get; set; }
}
