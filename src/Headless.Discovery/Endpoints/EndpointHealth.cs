namespace Headless.Discovery;

/// <summary>What active health checking currently says about a pod.</summary>
public enum EndpointHealth
{
    /// <summary>Not probed yet, or no active health checking is configured. Unknown pods are selectable.</summary>
    Unknown,

    /// <summary>Passed the healthy threshold of consecutive probes.</summary>
    Healthy,

    /// <summary>Failed the unhealthy threshold of consecutive probes. Not selectable unless in panic mode.</summary>
    Unhealthy,
}
