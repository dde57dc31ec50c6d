namespace Headless.Discovery;

/// <summary>
/// A probe that runs your code: a database ping, a gRPC health call, anything that can say yes or no about one pod.
/// </summary>
/// <remarks>Thread-safe if the delegate is; the monitor calls it for many pods at once.</remarks>
public sealed class DelegateProbe : IEndpointProbe
{
    private readonly Func<PodEndpoint, CancellationToken, ValueTask<ProbeResult>> _probe;

    /// <summary>Creates a probe from a delegate returning a <see cref="ProbeResult"/>.</summary>
    /// <param name="probe">Checks one pod; should honour the token (it carries the timeout).</param>
    public DelegateProbe(Func<PodEndpoint, CancellationToken, ValueTask<ProbeResult>> probe)
    {
        ArgumentNullException.ThrowIfNull(probe);
        _probe = probe;
    }

    /// <summary>Creates a probe from a yes/no check: <see langword="true"/> is healthy.</summary>
    /// <param name="check">Checks one pod; should honour the token (it carries the timeout).</param>
    /// <returns>The probe.</returns>
    public static DelegateProbe FromPredicate(Func<PodEndpoint, CancellationToken, ValueTask<bool>> check)
    {
        ArgumentNullException.ThrowIfNull(check);
        return new DelegateProbe(async (endpoint, ct) =>
            await check(endpoint, ct).ConfigureAwait(false) ? ProbeResult.Healthy() : ProbeResult.Unhealthy("the check returned false"));
    }

    /// <inheritdoc/>
    public ValueTask<ProbeResult> ProbeAsync(PodEndpoint endpoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        return _probe(endpoint, cancellationToken);
    }

    /// <summary>Returns <c>delegate</c>.</summary>
    public override string ToString() => "delegate";
}
