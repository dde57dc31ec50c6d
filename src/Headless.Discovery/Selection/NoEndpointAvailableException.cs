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

    private NoEndpointAvailableException(string message, EndpointSet snapshot)
        : base(message, snapshot.LastError)
    {
        Snapshot = snapshot;
    }

    /// <summary>
    /// The snapshot the selector saw: its <see cref="EndpointSet.Service"/>, <see cref="EndpointSet.Version"/> (0: nothing
    /// resolved yet), pod count and health counts (<see cref="EndpointSet.Available"/>,
    /// <see cref="EndpointSet.Statuses"/>). <see langword="null"/> only when
    /// the exception was created without one.
    /// </summary>
    public EndpointSet? Snapshot { get; }

    internal static NoEndpointAvailableException For(EndpointSet snapshot, string? detail = null)
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
        return new NoEndpointAvailableException(message, snapshot);
    }
}
