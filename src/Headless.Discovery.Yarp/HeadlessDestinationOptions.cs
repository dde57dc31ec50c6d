namespace Headless.Discovery.Yarp;

/// <summary>Options of the YARP destination resolver added by <c>AddHeadlessDiscoveryDestinations</c>.</summary>
public sealed class HeadlessDestinationOptions
{
    /// <summary>
    /// Whether Headless.Discovery's health decides which pods YARP sees. <see langword="true"/> (the default): one
    /// destination per pod in <see cref="EndpointSet.Available"/> — pods that active health marks unhealthy or passive
    /// health ejects are not destinations at all, so YARP never sends to them, and they come back as destinations when
    /// they recover (every pod in panic mode, <see cref="EndpointSet.IsPanic"/>). <see langword="false"/>: one destination
    /// per pod in <see cref="EndpointSet.Endpoints"/>, whatever its health here, and YARP's own health checks (the
    /// cluster's <c>HealthCheck</c> section, active and passive) decide which destinations receive traffic.
    /// </summary>
    public bool ApplyDiscoveryHealth { get; set; } = true;
}
