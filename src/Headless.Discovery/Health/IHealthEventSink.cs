namespace Headless.Discovery;

/// <summary>
/// Where the health room sends its events: the latest status of one pod, after each probe result, ejection and return.
/// The health room never reads anything back.
/// </summary>
/// <remarks>
/// Events of one pod arrive in order, raised under the tracker's lock, so an event for a pod never arrives after the
/// tracker has forgotten it (<see cref="HealthTracker.Sync"/>). The sink must not call back into the health room.
/// </remarks>
internal interface IHealthEventSink
{
    /// <summary>The pod's status is now <paramref name="status"/> (<see cref="PodEndpoint.UnknownStatus"/> when nothing is known any more).</summary>
    void OnStatus(EndpointStatus status);

    /// <summary>A probe found <paramref name="endpoint"/> refusing connections or unreachable: it may have left the service.</summary>
    void OnUnreachable(PodEndpoint endpoint);
}
