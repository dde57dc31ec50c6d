using Microsoft.Extensions.Logging;

namespace Headless.Discovery;

/// <summary>Log events of connection sets: event ids 1300-1399 (selection, fan-out, connections).</summary>
internal static partial class ConnectionSetLog
{
    [LoggerMessage(1300, LogLevel.Information, "Service {Service}: connected to {Endpoint}.")]
    public static partial void Connected(ILogger logger, string service, string endpoint);

    [LoggerMessage(1301, LogLevel.Information, "Service {Service}: let go of the connection to {Endpoint} ({Reason}); it closes when its last use ends.")]
    public static partial void Disconnected(ILogger logger, string service, string endpoint, ConnectionCloseReason reason);

    [LoggerMessage(1302, LogLevel.Warning, "Service {Service}: connect attempt {Attempt} to {Endpoint} failed; retrying in {DelayMs} ms.")]
    public static partial void ConnectFailed(ILogger logger, string service, string endpoint, int attempt, double delayMs, Exception? error);

    [LoggerMessage(1303, LogLevel.Warning, "Service {Service}: closing the connection to {Endpoint} failed.")]
    public static partial void CloseFailed(ILogger logger, string service, string endpoint, Exception error);

    [LoggerMessage(1304, LogLevel.Warning, "Service {Service}: a ConnectionSet.Changed handler threw.")]
    public static partial void HandlerFailed(ILogger logger, string service, Exception error);
}
