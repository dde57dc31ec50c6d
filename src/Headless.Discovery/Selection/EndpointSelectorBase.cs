using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Headless.Discovery;

/// <summary>
/// The one body of <see cref="IEndpointSelector"/>'s four members: a selector supplies only its choice
/// (<see cref="Choose"/>), and picks, leases and the error path are the same for all of them.
/// </summary>
internal abstract class EndpointSelectorBase : IEndpointSelector
{
    protected EndpointSelectorBase(IHeadlessService service)
    {
        ArgumentNullException.ThrowIfNull(service);
        Service = service;
    }

    /// <summary>How many times a lease chooses a pod before it gives up because each choice lost its slot to a race.</summary>
    private const int LeaseAttempts = 4;

    public IHeadlessService Service { get; }

    public bool TryPick([NotNullWhen(true)] out PodEndpoint? endpoint)
    {
        endpoint = Choose(out _);
        return endpoint is not null;
    }

    public PodEndpoint Pick() => Choose(out _) ?? throw NoEndpoint();

    public bool TryLease(out EndpointLease lease)
    {
        // A pod can reach a lease limit between the choice and the reservation (another caller took its last slot):
        // choose again, a few times, rather than fail while other pods have room.
        for (int attempt = 0; attempt < LeaseAttempts; attempt++)
        {
            PodEndpoint? endpoint = Choose(out LeaseTracker? tracker);
            if (endpoint is null)
            {
                break;
            }

            if (EndpointLease.TryStart(Service, endpoint, tracker, out lease))
            {
                return true;
            }
        }

        lease = default;
        return false;
    }

    public EndpointLease Lease() => TryLease(out EndpointLease lease) ? lease : throw NoEndpoint();

    public override string ToString() => $"{GetType().Name.Replace("Selector", string.Empty, StringComparison.Ordinal)} over {Service.Name}";

    /// <summary>
    /// The selector's decision, on the pick path: no lock, no allocation. Reads <see cref="IHeadlessService.Current"/>
    /// once.
    /// </summary>
    /// <param name="tracker">What a lease on the pod reports its end to (outstanding count, stickiness), or <see langword="null"/>.</param>
    /// <returns>The pod to hand out, or <see langword="null"/> when none is available.</returns>
    protected abstract PodEndpoint? Choose(out LeaseTracker? tracker);

    /// <summary>Why there is no pod to pick when the snapshot itself has available pods (a selector's own rule), or <see langword="null"/>.</summary>
    protected virtual string? NoEndpointDetail(EndpointSet set) => null;

    /// <summary>The array behind <see cref="EndpointSet.Available"/>, without ImmutableArray's checks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    protected static PodEndpoint[] AvailableOf(EndpointSet set) => ImmutableCollectionsMarshal.AsArray(set.Available)!;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private NoEndpointAvailableException NoEndpoint()
    {
        EndpointSet current = Service.Current;
        return NoEndpointAvailableException.For(current, NoEndpointDetail(current));
    }
}
