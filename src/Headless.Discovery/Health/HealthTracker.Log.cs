using Microsoft.Extensions.Logging;

namespace Headless.Discovery;

internal sealed partial class HealthTracker
{
    /// <summary>Log events of health tracking: event ids 1200-1204 and 1207 (panic, 1205-1206, is logged by the publisher).</summary>
    private static partial class Log
    {
        [LoggerMessage(1200, LogLevel.Information, "Service {Service}: endpoint {Endpoint} is healthy (was {Previous}) after {Successes} passed probe(s).")]
        public static partial void BecameHealthy(ILogger logger, string service, string endpoint, EndpointHealth previous, int successes);

        [LoggerMessage(1201, LogLevel.Warning, "Service {Service}: endpoint {Endpoint} is unhealthy (was {Previous}) after {Failures} failed probe(s): {Error}")]
        public static partial void BecameUnhealthy(ILogger logger, string service, string endpoint, EndpointHealth previous, int failures, string? error);

        [LoggerMessage(1202, LogLevel.Warning, "Service {Service}: endpoint {Endpoint} ejected for {Duration} after {Failures} consecutive failed calls (ejection #{Times}).")]
        public static partial void Ejected(ILogger logger, string service, string endpoint, int failures, TimeSpan duration, int times);

        [LoggerMessage(1203, LogLevel.Information, "Service {Service}: endpoint {Endpoint} returned from ejection: {Reason}.")]
        public static partial void EjectionEnded(ILogger logger, string service, string endpoint, string reason);

        [LoggerMessage(1204, LogLevel.Information, "Service {Service}: endpoint {Endpoint} failed {Failures} calls in a row but is not ejected: {Ejected} of {Total} endpoint(s) are ejected already (MaxEjectionPercent {MaxPercent}).")]
        public static partial void EjectionSkipped(ILogger logger, string service, string endpoint, int failures, int ejected, int total, double maxPercent);

        [LoggerMessage(1207, LogLevel.Warning, "Service {Service}: endpoint {Endpoint} ejected for {Duration} as an outlier: {Reason} (ejection #{Times}).")]
        public static partial void EjectedAsOutlier(ILogger logger, string service, string endpoint, TimeSpan duration, string reason, int times);
    }
}
