namespace Headless.Discovery.Tests;

/// <summary>Waits on a built service's snapshots for any condition (the library's own waits are for counts only).</summary>
internal static class LiveServiceWaits
{
    /// <summary>The first snapshot of <paramref name="service"/> (built by <see cref="HeadlessService.Create(HeadlessServiceOptions, TimeProvider?, Microsoft.Extensions.Logging.ILoggerFactory?, KubernetesDnsEnvironment?, Random?)"/>) that meets <paramref name="condition"/>.</summary>
    internal static ValueTask<EndpointSet> WaitAsync(this IHeadlessService service, Func<EndpointSet, bool> condition, CancellationToken cancellationToken) =>
        ((LiveHeadlessService)service).WaitAsync(condition, cancellationToken);
}
