using System.Diagnostics.CodeAnalysis;

namespace Headless.Discovery;

/// <summary>
/// Picks one pod of a headless Service per call, from the latest snapshot's <see cref="EndpointSet.Available"/> pods
/// (healthy or not yet probed, and not ejected; every pod in panic mode). Create one through <see cref="EndpointSelectors"/>.
/// </summary>
/// <remarks>
/// Thread-safe. The pick path takes no lock and allocates nothing: it reads <see cref="IHeadlessService.Current"/> once
/// and a table the selector rebuilds only when that snapshot reference changes.
/// </remarks>
public interface IEndpointSelector
{
    /// <summary>The service the selector picks from.</summary>
    IHeadlessService Service { get; }

    /// <summary>Picks a pod.</summary>
    /// <param name="endpoint">The pod, or <see langword="null"/> when none is available.</param>
    /// <returns><see langword="true"/> when a pod was picked.</returns>
    bool TryPick([NotNullWhen(true)] out PodEndpoint? endpoint);

    /// <summary>Picks a pod.</summary>
    /// <returns>The pod; never <see langword="null"/>.</returns>
    /// <exception cref="NoEndpointAvailableException">No pod is available (none resolved, or all unhealthy or ejected outside panic mode).</exception>
    PodEndpoint Pick();

    /// <summary>
    /// Picks a pod and leases it: the lease counts the call as outstanding (for least-outstanding selectors) and
    /// reports its outcome to passive health. Dispose it when the call ends.
    /// </summary>
    /// <param name="lease">The lease, or <see langword="default"/> when no pod is available.</param>
    /// <returns><see langword="true"/> when a pod was leased.</returns>
    bool TryLease(out EndpointLease lease);

    /// <summary>Picks a pod and leases it (see <see cref="TryLease"/>).</summary>
    /// <returns>The lease; dispose it when the call ends.</returns>
    /// <exception cref="NoEndpointAvailableException">No pod is available.</exception>
    EndpointLease Lease();
}
