using Microsoft.Extensions.Logging;

namespace Headless.Discovery;

internal sealed partial class EndpointPublisher
{
    /// <summary>Log events of publication: 1100 and 1106 (refresh range), 1205-1206 (health range: panic).</summary>
    private static partial class Log
    {
        [LoggerMessage(1100, LogLevel.Information, "Service {Service}: published version {Version} with {Count} endpoint(s) (+{Added} -{Removed}, stale: {Stale}).")]
        public static partial void Published(ILogger logger, string service, long version, int count, int added, int removed, bool stale);

        [LoggerMessage(1106, LogLevel.Error, "Service {Service}: a Changed event handler threw; the exception was swallowed.")]
        public static partial void ChangedHandlerFailed(ILogger logger, string service, Exception error);

        [LoggerMessage(1205, LogLevel.Warning, "Service {Service}: panic mode: only {Available} of {Total} endpoint(s) available (threshold {Threshold} %); selecting among all endpoints.")]
        public static partial void PanicEntered(ILogger logger, string service, int available, int total, double threshold);

        [LoggerMessage(1206, LogLevel.Information, "Service {Service}: panic mode over: {Available} of {Total} endpoint(s) available.")]
        public static partial void PanicExited(ILogger logger, string service, int available, int total);
    }
}
