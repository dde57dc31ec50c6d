namespace Headless.Discovery;

/// <summary>
/// One resolution round for a service: turns a name into endpoints. <see cref="DnsEndpointResolver"/> is the DNS
/// implementation; tests and custom sources can supply their own.
/// </summary>
public interface IEndpointResolver
{
    /// <summary>Resolves <paramref name="service"/> once.</summary>
    /// <param name="service">The fully qualified service name.</param>
    /// <param name="cancellationToken">Cancels the round; surfaces as <see cref="OperationCanceledException"/>, never as a failed result.</param>
    /// <returns>The outcome. DNS errors are reported as <see cref="ResolutionOutcome.Failed"/>, not thrown.</returns>
    ValueTask<ResolutionResult> ResolveAsync(ServiceName service, CancellationToken cancellationToken = default);
}
