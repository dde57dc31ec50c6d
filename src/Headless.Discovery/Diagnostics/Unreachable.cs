using System.Net.Sockets;

namespace Headless.Discovery;

/// <summary>
/// Tells a failure that says the pod may be gone (connection refused, host or network unreachable, host down) from one
/// that says nothing about membership (a timeout, a reset mid-call, a 5xx): the first kind asks for an early refresh.
/// </summary>
internal static class Unreachable
{
    /// <summary>Whether <paramref name="error"/> or any exception inside it is a refused or unreachable connection.</summary>
    public static bool Is(Exception? error)
    {
        for (int depth = 0; error is not null && depth < 8; depth++)
        {
            if (error is SocketException socket && Is(socket.SocketErrorCode))
            {
                return true;
            }

            if (error is AggregateException aggregate && aggregate.InnerExceptions.Any(Is))
            {
                return true;
            }

            error = error.InnerException;
        }

        return false;
    }

    /// <summary>Whether <paramref name="code"/> says nothing listens at the pod's address, or the address cannot be reached.</summary>
    public static bool Is(SocketError code) => code is SocketError.ConnectionRefused
        or SocketError.HostUnreachable
        or SocketError.NetworkUnreachable
        or SocketError.HostDown
        or SocketError.AddressNotAvailable;
}
