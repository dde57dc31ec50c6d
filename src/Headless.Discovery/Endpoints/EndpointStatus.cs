using System.Collections.Immutable;
using System.Runtime.InteropServices;

namespace Headless.Discovery;

/// <summary>
/// One pod's health as published in an <see cref="EndpointSet"/>: the active verdict, whether passive outlier detection
/// has ejected it, and why. Immutable.
/// </summary>
public sealed class EndpointStatus
{
    /// <summary>Creates a status.</summary>
    /// <param name="endpoint">The pod.</param>
    /// <param name="health">The active health verdict.</param>
    /// <param name="isEjected">Whether passive outlier detection has ejected the pod.</param>
    /// <param name="ejectedUntil">When the ejection ends, or <see langword="null"/>.</param>
    /// <param name="lastError">The last probe or reported error, or <see langword="null"/>.</param>
    /// <param name="lastLatency">The latency of the last probe, or <see langword="null"/>.</param>
    /// <param name="consecutiveFailures">Consecutive failed probes (0 or more).</param>
    /// <param name="lastTransitionAt">When <paramref name="health"/> last changed, or <see langword="null"/>.</param>
    public EndpointStatus(
        PodEndpoint endpoint,
        EndpointHealth health = EndpointHealth.Unknown,
        bool isEjected = false,
        DateTimeOffset? ejectedUntil = null,
        string? lastError = null,
        TimeSpan? lastLatency = null,
        int consecutiveFailures = 0,
        DateTimeOffset? lastTransitionAt = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentOutOfRangeException.ThrowIfNegative(consecutiveFailures);
        Endpoint = endpoint;
        Health = health;
        IsEjected = isEjected;
        EjectedUntil = ejectedUntil;
        LastError = lastError;
        LastLatency = lastLatency;
        ConsecutiveFailures = consecutiveFailures;
        LastTransitionAt = lastTransitionAt;
    }

    /// <summary>The pod.</summary>
    public PodEndpoint Endpoint { get; }

    /// <summary>The active health verdict.</summary>
    public EndpointHealth Health { get; }

    /// <summary>Whether passive outlier detection has ejected the pod.</summary>
    public bool IsEjected { get; }

    /// <summary>When the ejection ends, or <see langword="null"/> when not ejected.</summary>
    public DateTimeOffset? EjectedUntil { get; }

    /// <summary>The last probe or reported error message, or <see langword="null"/>.</summary>
    public string? LastError { get; }

    /// <summary>The latency of the last probe, or <see langword="null"/> before the first.</summary>
    public TimeSpan? LastLatency { get; }

    /// <summary>Consecutive failed probes.</summary>
    public int ConsecutiveFailures { get; }

    /// <summary>When <see cref="Health"/> last changed, or <see langword="null"/> if it never did.</summary>
    public DateTimeOffset? LastTransitionAt { get; }

    /// <summary><see langword="true"/> when the pod may be selected outside panic mode: not unhealthy and not ejected.</summary>
    public bool IsAvailable => Health != EndpointHealth.Unhealthy && !IsEjected;

    /// <summary>A short description.</summary>
    public override string ToString() => $"{Endpoint}: {Health}{(IsEjected ? " (ejected)" : string.Empty)}";

    /// <summary>How many of <paramref name="statuses"/> are <see cref="IsAvailable"/>.</summary>
    internal static int CountAvailable(ImmutableArray<EndpointStatus> statuses)
    {
        int available = 0;
        foreach (EndpointStatus status in statuses)
        {
            available += status.IsAvailable ? 1 : 0;
        }

        return available;
    }

    /// <summary>
    /// The pods of the <see cref="IsAvailable"/> statuses, in order: <paramref name="endpoints"/> itself (no copy) when
    /// all <paramref name="availableCount"/> of them are. <paramref name="statuses"/> are aligned with
    /// <paramref name="endpoints"/>; <paramref name="availableCount"/> is <see cref="CountAvailable"/> of them.
    /// </summary>
    internal static ImmutableArray<PodEndpoint> AvailableOf(ImmutableArray<PodEndpoint> endpoints, ImmutableArray<EndpointStatus> statuses, int availableCount)
    {
        if (availableCount == endpoints.Length)
        {
            return endpoints;
        }

        var selectable = new PodEndpoint[availableCount];
        int n = 0;
        foreach (EndpointStatus status in statuses)
        {
            if (status.IsAvailable)
            {
                selectable[n++] = status.Endpoint;
            }
        }

        return ImmutableCollectionsMarshal.AsImmutableArray(selectable);
    }
}
