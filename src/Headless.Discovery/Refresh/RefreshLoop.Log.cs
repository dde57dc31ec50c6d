using Microsoft.Extensions.Logging;

namespace Headless.Discovery;

internal sealed partial class RefreshLoop
{
    /// <summary>Log events of the refresh loop: event ids 1107-1108 (of the refresh range 1100-1199).</summary>
    private static partial class Log
    {
        [LoggerMessage(1107, LogLevel.Error, "Service {Service}: unexpected error in the refresh loop; retrying after the failure backoff.")]
        public static partial void RefreshLoopError(ILogger logger, string service, Exception error);

        [LoggerMessage(1108, LogLevel.Debug, "Service {Service}: early refresh requested (a pod refused a connection or is unreachable); next round in {Delay}.")]
        public static partial void EarlyRefreshRequested(ILogger logger, string service, TimeSpan delay);
    }
}
