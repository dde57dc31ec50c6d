using System.Net;
using System.Net.Sockets;

namespace Headless.Discovery.Testing;

/// <summary>
/// Hands out unique IPv4 loopback addresses (127.b.y.z) so that every loopback "pod" has its own IP, as pods do in a
/// cluster. Linux routes all of 127.0.0.0/8 to the loopback interface, so no configuration is needed there; on macOS
/// and Windows only 127.0.0.1 exists by default and <see cref="Next()"/> throws <see cref="PlatformNotSupportedException"/>.
/// </summary>
/// <remarks>
/// <para>
/// Each process claims a whole 127.b.0.0/16 block (b from 1 to 254, starting from a value derived from the process
/// id) by keeping a listening socket on 127.b.255.254:65535 for its lifetime; a process that finds the block taken
/// moves on to the next one. So test assemblies running in parallel in different processes never share an address,
/// and 127.0.0.1 (block 0) is never handed out. Host parts .0 and .255 are skipped. A block holds 65,024 addresses;
/// another block is claimed when it runs out. Addresses are never reused within a process.
/// </para>
/// <para>All members are thread-safe.</para>
/// </remarks>
public static class LoopbackAddressPool
{
    private const int ReservationPort = 65535;
    private const int HostsPerRow = 254;
    private const int Rows = 255; // row 255 holds the reservation address

    private static readonly object Gate = new();
    private static readonly List<Socket> Reservations = [];
    private static int _block = -1;
    private static int _next;

    /// <summary>Returns a loopback address that no earlier call, in this or another process using this pool, returned.</summary>
    /// <returns>An address 127.b.y.z with b and z in 1 to 254.</returns>
    /// <exception cref="PlatformNotSupportedException">Addresses other than 127.0.0.1 cannot be bound on this machine.</exception>
    /// <exception cref="InvalidOperationException">Every 127.b.0.0/16 block is claimed by another process.</exception>
    public static IPAddress Next()
    {
        lock (Gate)
        {
            if (_block < 0 || _next >= HostsPerRow * Rows)
            {
                _block = ClaimBlock(_block < 0 ? 1 + (Environment.ProcessId % 254) : _block + 1);
                _next = 0;
            }

            var index = _next++;
            return new IPAddress([127, (byte)_block, (byte)(index / HostsPerRow), (byte)(1 + (index % HostsPerRow))]);
        }
    }

    /// <summary>Returns <paramref name="count"/> addresses from <see cref="Next()"/>.</summary>
    /// <param name="count">How many addresses; zero or more.</param>
    /// <returns>The addresses, in order.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative.</exception>
    public static IReadOnlyList<IPAddress> Next(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var addresses = new IPAddress[count];
        for (var i = 0; i < count; i++)
        {
            addresses[i] = Next();
        }

        return addresses;
    }

    private static int ClaimBlock(int start)
    {
        for (var attempt = 0; attempt < 254; attempt++)
        {
            var block = 1 + ((start - 1 + attempt) % 254);
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                // A listening socket conflicts with any other bind of the same address and port, even with SO_REUSEADDR.
                socket.Bind(new IPEndPoint(new IPAddress([127, (byte)block, 255, 254]), ReservationPort));
                socket.Listen(1);
                Reservations.Add(socket);
                return block;
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
            {
                socket.Dispose();
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressNotAvailable)
            {
                socket.Dispose();
                throw new PlatformNotSupportedException(
                    "Only 127.0.0.1 is bound to the loopback interface on this machine. Linux routes all of 127.0.0.0/8 to lo; " +
                    "on macOS add aliases (sudo ifconfig lo0 alias 127.x.y.z) or run the tests on Linux.",
                    ex);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        throw new InvalidOperationException("Every 127.b.0.0/16 loopback block is claimed by another process.");
    }
}
