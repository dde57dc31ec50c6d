using Microsoft.Extensions.Logging;

namespace Headless.Discovery;

internal sealed partial class RefreshLoop
{
    /// <summary>Log events of the refresh loop: event id 1107 (of the refresh range 1100-1199).</summary>
    private static partial class Log
    {
        [LoggerMessage(1107, LogLevel.Error, "Service {Service}: unexpected error in the refresh loop; retrying after the failure backoff.")]
        public static partial void RefreshLoopError(ILogger logger, string service, Exception error);
    }
}
