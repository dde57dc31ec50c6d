using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Headless.Discovery.Http;

/// <summary>
/// Sends each request naming the service to a pod leased from the service's selector, restoring the request URI
/// afterwards so an outer retry picks again; reports each call's outcome through the lease.
/// </summary>
internal sealed partial class HeadlessServiceHttpHandler : DelegatingHandler
{
    private readonly IHeadlessService _service;
    private readonly IEndpointSelector _selector;
    private readonly HeadlessServiceHttpOptions _options;
    private readonly string _serviceHost;
    private readonly ILogger _logger;

    public HeadlessServiceHttpHandler(string key, IHeadlessService service, IEndpointSelector selector, HeadlessServiceHttpOptions options, ILogger? logger)
    {
        _service = service;
        _selector = selector;
        _options = options;
        _serviceHost = options.ServiceHost ?? key;
        _logger = logger ?? NullLogger.Instance;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Uri? original = request.RequestUri;
        if (original is null || !original.IsAbsoluteUri || !string.Equals(original.Host, _serviceHost, StringComparison.OrdinalIgnoreCase))
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }

        EndpointLease lease = await LeaseAsync(cancellationToken).ConfigureAwait(false);
        PodEndpoint pod = lease.Endpoint;
        bool setHost = _options.PreserveHostHeader && request.Headers.Host is null;
        try
        {
            if (setHost)
            {
                request.Headers.Host = original.IsDefaultPort ? original.Host : original.Authority;
            }

            request.RequestUri = Rewrite(original, pod);
            request.Options.Set(HeadlessServiceHttpOptions.PodEndpointKey, pod);
            HttpResponseMessage response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            bool failed = _options.IsFailure(response);
            lease.Complete(!failed);
            if (failed)
            {
                Log.FailedResponse(_logger, _service.Name.Value, pod.Key, (int)response.StatusCode);
            }

            return response;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The caller gave up: says nothing about the pod.
            lease.Dispose();
            throw;
        }
        catch (Exception ex)
        {
            // Reported with its exception: a refused connection also asks for an early refresh (the pod may have left).
            TimeSpan elapsed = lease.Elapsed;
            lease.Dispose();
            _service.ReportFailure(pod, ex, elapsed);
            Log.FailedRequest(_logger, _service.Name.Value, pod.Key, ex);
            throw;
        }
        finally
        {
            // An outer retry (Microsoft.Extensions.Http.Resilience) re-sends this message: it must name the service again.
            request.RequestUri = original;
            if (setHost)
            {
                request.Headers.Host = null;
            }
        }
    }

    private async ValueTask<EndpointLease> LeaseAsync(CancellationToken cancellationToken)
    {
        if (_selector.TryLease(out EndpointLease lease))
        {
            return lease;
        }

        if (_service.Current.Version == 0)
        {
            // The first request of a cold client: wait (bounded) for the first answer instead of failing at once.
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.FirstResolutionTimeout);
            try
            {
                await _service.GetEndpointsAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // Timed out: report "no pod" below.
            }

            if (_selector.TryLease(out lease))
            {
                return lease;
            }
        }

        NoEndpointAvailableException noPod;
        try
        {
            // The selector's own exception says why (counts, snapshot version); a pod that came back meanwhile is taken.
            return _selector.Lease();
        }
        catch (NoEndpointAvailableException ex)
        {
            noPod = ex;
        }

        EndpointSet set = _service.Current;
        Log.NoPod(_logger, set.Service.Value, set.Endpoints.Length);
        string message = set.Endpoints.Length == 0
            ? $"No pod of {set.Service} to send the request to: the service has no endpoints{(set.LastError is null ? string.Empty : " (" + set.LastError.Message + ")")}."
            : $"No pod of {set.Service} to send the request to: all {set.Endpoints.Length} are unhealthy or ejected.";
        throw new HttpRequestException(HttpRequestError.ConnectionError, message, noPod);
    }

    private static Uri Rewrite(Uri original, PodEndpoint pod)
    {
        var builder = new UriBuilder(original)
        {
            Host = pod.Address.AddressFamily == AddressFamily.InterNetworkV6 ? "[" + pod.Address + "]" : pod.Address.ToString(),
        };
        if (pod.Port != 0)
        {
            builder.Port = pod.Port;
        }

        return builder.Uri;
    }

    /// <summary>Log events of the HTTP handler: event ids 1500-1509.</summary>
    private static partial class Log
    {
        [LoggerMessage(1500, LogLevel.Warning, "Service {Service}: no pod available for an HTTP request ({Count} endpoint(s) known).")]
        public static partial void NoPod(ILogger logger, string service, int count);

        [LoggerMessage(1501, LogLevel.Debug, "Service {Service}: pod {Pod} answered {StatusCode}; reported as a failure.")]
        public static partial void FailedResponse(ILogger logger, string service, string pod, int statusCode);

        [LoggerMessage(1502, LogLevel.Debug, "Service {Service}: request to pod {Pod} failed; reported as a failure.")]
        public static partial void FailedRequest(ILogger logger, string service, string pod, Exception error);
    }
}
