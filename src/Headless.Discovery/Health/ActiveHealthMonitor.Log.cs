using Microsoft.Extensions.Logging;

namespace Headless.Discovery;

internal sealed partial class ActiveHealthMonitor
{
    /// <summary>Log events of active probing: event ids 1250-1299.</summary>
    private static partial class Log
    {
        [LoggerMessage(1250, LogLevel.Debug, "Service {Service}: probe of {Endpoint} failed after {LatencyMs} ms: {Error}")]
        public static partial void ProbeFailed(ILogger logger, string service, string endpoint, double latencyMs, string? error);

        [LoggerMessage(1251, LogLevel.Error, "Service {Service}: the probe loop of {Endpoint} stopped on an unexpected error.")]
        public static partial void ProbeLoopFailed(ILogger logger, string service, string endpoint, Exception error);
    }
}
