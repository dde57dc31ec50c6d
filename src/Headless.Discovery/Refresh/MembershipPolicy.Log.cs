using Microsoft.Extensions.Logging;

namespace Headless.Discovery;

internal sealed partial class MembershipPolicy
{
    /// <summary>Log events of the membership policy: event ids 1101-1105 (of the refresh range 1100-1199).</summary>
    private static partial class Log
    {
        [LoggerMessage(1101, LogLevel.Warning, "Service {Service}: refresh failed ({ConsecutiveFailures} in a row); keeping {Count} last known endpoint(s), marked stale.")]
        public static partial void RefreshFailed(ILogger logger, string service, int consecutiveFailures, int count, Exception error);

        [LoggerMessage(1102, LogLevel.Information, "Service {Service}: resolution recovered with {Count} endpoint(s).")]
        public static partial void Recovered(ILogger logger, string service, int count);

        [LoggerMessage(1103, LogLevel.Information, "Service {Service}: empty answer ({Outcome}), {Consecutive} of {Required} needed before the endpoints are dropped; keeping them, marked stale.")]
        public static partial void EmptyAnswerNotYetAccepted(ILogger logger, string service, ResolutionOutcome outcome, int consecutive, int required);

        [LoggerMessage(1104, LogLevel.Warning, "Service {Service}: {Consecutive} consecutive empty answers ({Outcome}); dropping all {Count} endpoint(s).")]
        public static partial void EmptyAnswerAccepted(ILogger logger, string service, ResolutionOutcome outcome, int consecutive, int count);

        [LoggerMessage(1105, LogLevel.Error, "Service {Service}: stale for longer than MaxStaleness ({MaxStaleness}); dropping {Count} endpoint(s).")]
        public static partial void StaleEndpointsDropped(ILogger logger, string service, int count, TimeSpan maxStaleness);
    }
}
