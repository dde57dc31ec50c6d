using Microsoft.Extensions.Logging;

namespace Headless.Discovery;

/// <summary>
/// Connects a <see cref="ConnectionSet{TConnection}"/> to one pod: each attempt is bounded by the connect timeout, and a
/// failed attempt is logged and retried after the shared <see cref="Backoff"/> (initial backoff doubling up to the
/// maximum, equal jitter) for as long as the caller's token — the pod's membership — is live. Time runs on the
/// service's clock; jitter comes from the random source given to the set. Thread-safe: the set's pods share one.
/// </summary>
/// <typeparam name="TConnection">The connection type.</typeparam>
internal sealed class Reconnector<TConnection>
    where TConnection : class
{
    private readonly Func<PodEndpoint, CancellationToken, ValueTask<TConnection>> _connect;
    private readonly ConnectionSetOptions _options;
    private readonly TimeProvider _time;
    private readonly Random _random;
    // A seeded Random is not thread-safe, and the pods' loops fail concurrently; draws are rare (one per failure).
    private readonly Lock _randomLock = new();
    private readonly ILogger _logger;
    private readonly string _service;
    private readonly Action _unreachable;

    internal Reconnector(
        Func<PodEndpoint, CancellationToken, ValueTask<TConnection>> connect,
        ConnectionSetOptions options,
        TimeProvider time,
        Random random,
        ILogger logger,
        string service,
        Action unreachable)
    {
        _connect = connect;
        _options = options;
        _time = time;
        _random = random;
        _logger = logger;
        _service = service;
        _unreachable = unreachable;
    }

    /// <summary>Connects, retrying failed attempts with backoff until one succeeds.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled first: the only exception.</exception>
    internal async Task<TConnection> ConnectAsync(PodEndpoint endpoint, CancellationToken cancellationToken)
    {
        for (int failures = 1; ; failures++)
        {
            Exception error;
            try
            {
                return await AttemptAsync(endpoint, cancellationToken).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // Any failure of the user's connect delegate is retried while the pod is a member.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                error = ex;
            }

            cancellationToken.ThrowIfCancellationRequested();
            if (Unreachable.Is(error))
            {
                // Refused or unreachable: the pod may have left; ask for an early refresh (rate-limited by the service).
                _unreachable();
            }

            TimeSpan delay = Backoff.Delay(failures, _options.InitialBackoff, _options.MaxBackoff, DrawJitter());
            ConnectionSetLog.ConnectFailed(_logger, _service, endpoint.Key, failures, delay.TotalMilliseconds, error);
            await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<TConnection> AttemptAsync(PodEndpoint endpoint, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_options.ConnectTimeout, _time);
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            return await _connect(endpoint, attempt.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"Connecting to {endpoint} took longer than the connect timeout ({_options.ConnectTimeout}).", ex);
        }
    }

    private double DrawJitter()
    {
        lock (_randomLock)
        {
#pragma warning disable CA5394 // Jitter, not security.
            return _random.NextDouble();
#pragma warning restore CA5394
        }
    }
}
