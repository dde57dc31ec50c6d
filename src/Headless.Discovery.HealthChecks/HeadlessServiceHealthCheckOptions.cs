namespace Headless.Discovery.HealthChecks;

/// <summary>
/// Thresholds of one headless-service health check (<c>AddHeadlessServiceCheck</c>). Every option documents its default.
/// </summary>
public sealed class HeadlessServiceHealthCheckOptions
{
    /// <summary>
    /// The fewest usable pods (neither unhealthy nor ejected; pods of unknown health count unless
    /// <see cref="CountUnknownPods"/> is off) for the check to pass; fewer reports the registration's failure status
    /// (Unhealthy by default). 0 to 100 000. Default: 1.
    /// </summary>
    public int MinHealthy { get; set; } = 1;

    /// <summary>
    /// Whether pods of unknown health count toward <see cref="MinHealthy"/>: pods not probed yet, and every pod when the
    /// service has no active probe (<c>ActiveHealth:Probe</c> is <c>none</c>). Then "healthy" means the pods resolve
    /// and were not ejected by failed calls, not that they answer. Turn it off to require pods an active probe found
    /// healthy. Default: <see langword="true"/>.
    /// </summary>
    public bool CountUnknownPods { get; set; } = true;

    /// <summary>
    /// How long the endpoint set may stay stale (DNS failing, last known good endpoints kept) before the check fails
    /// whatever the pod count; until then a stale set reports Degraded. <see cref="Timeout.InfiniteTimeSpan"/> never
    /// fails for staleness alone. Default: <see cref="Timeout.InfiniteTimeSpan"/>.
    /// </summary>
    public TimeSpan MaxStaleAge { get; set; } = Timeout.InfiniteTimeSpan;

    /// <summary>Checks every option and throws an <see cref="ArgumentException"/> naming the first bad one.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public void Validate()
    {
        if (MinHealthy is < 0 or > 100_000)
        {
            throw new ArgumentException($"{nameof(MinHealthy)} = {MinHealthy} must be between 0 and 100000.", nameof(MinHealthy));
        }

        if (MaxStaleAge != Timeout.InfiniteTimeSpan && MaxStaleAge < TimeSpan.Zero)
        {
            throw new ArgumentException($"{nameof(MaxStaleAge)} = {MaxStaleAge} must be zero or more, or Timeout.InfiniteTimeSpan.", nameof(MaxStaleAge));
        }
    }
}
