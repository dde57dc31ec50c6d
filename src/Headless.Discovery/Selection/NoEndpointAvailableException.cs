using System.Globalization;

namespace Headless.Discovery;

/// <summary>
/// Thrown when a selector has no pod to pick: the service has no resolved pods, every pod is unhealthy or ejected
/// (outside panic mode), or the pod asked for (an ordinal) is absent or unavailable. The message says which. Only the
/// library throws it (its constructors are internal); callers read its properties.
/// </summary>
public sealed class NoEndpointAvailableException : InvalidOperationException
{
    /// <summary>Creates the exception with a generic message.</summary>
    internal NoEndpointAvailableException()
        : base("No endpoint is available.")
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/>.</summary>
    /// <param name="message">The message.</param>
    internal NoEndpointAvailableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/> and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    internal NoEndpointAvailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    private NoEndpointAvailableException(string message, EndpointSet snapshot, int? ordinal)
        : base(message, snapshot.LastError)
    {
        Service = snapshot.Service;
        PodCount = snapshot.Count;
        AvailableCount = snapshot.Available.Length;
        UnhealthyCount = snapshot.UnhealthyCount;
        EjectedCount = snapshot.EjectedCount;
        SnapshotVersion = snapshot.Version;
        Ordinal = ordinal;
    }

    /// <summary>The service, or <see langword="null"/> when the exception was created without a snapshot.</summary>
    public ServiceName? Service { get; }

    /// <summary>How many pods the snapshot held.</summary>
    public int PodCount { get; }

    /// <summary>How many pods were available for selection.</summary>
    public int AvailableCount { get; }

    /// <summary>How many pods active health checking marked unhealthy.</summary>
    public int UnhealthyCount { get; }

    /// <summary>How many pods passive outlier detection had ejected.</summary>
    public int EjectedCount { get; }

    /// <summary>The snapshot's <see cref="EndpointSet.Version"/> (0: nothing resolved yet).</summary>
    public long SnapshotVersion { get; }

    /// <summary>The StatefulSet ordinal that was asked for, or <see langword="null"/> for other selectors.</summary>
    public int? Ordinal { get; }

    internal static NoEndpointAvailableException For(EndpointSet snapshot, string? detail = null, int? ordinal = null)
    {
        string reason = snapshot.Version == 0
            ? "it has not been resolved yet"
            : snapshot.Count == 0
                ? "it has no ready pods"
                : string.Create(
                    CultureInfo.InvariantCulture,
                    $"none of its {snapshot.Count} pod(s) is available ({snapshot.UnhealthyCount} unhealthy, {snapshot.EjectedCount} ejected)");
        string message = string.Create(
            CultureInfo.InvariantCulture,
            $"No endpoint of '{snapshot.Service}' is available: {detail ?? reason} (snapshot version {snapshot.Version}{(snapshot.IsStale ? ", stale" : string.Empty)}).");
        return new NoEndpointAvailableException(message, snapshot, ordinal);
    }
}
