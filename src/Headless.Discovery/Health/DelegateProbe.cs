namespace Headless.Discovery;

/// <summary>
/// A probe that runs your code: a database ping, a gRPC health call, anything that can say yes or no about one pod.
/// </summary>
/// <remarks>Thread-safe if the delegate is; the monitor calls it for many pods at once.</remarks>
internal sealed class DelegateProbe : IEndpointProbe
{
    private readonly Func<PodEndpoint, CancellationToken, ValueTask<ProbeResult>> _probe;

    /// <summary>Creates a probe from a delegate returning a <see cref="ProbeResult"/>.</summary>
    /// <param name="probe">Checks one pod; should honour the token (it carries the timeout).</param>
    public DelegateProbe(Func<PodEndpoint, CancellationToken, ValueTask<ProbeResult>> probe)
    {
        ArgumentNullException.ThrowIfNull(probe);
        _probe = probe;
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
