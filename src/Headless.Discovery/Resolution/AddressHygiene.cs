using System.Net;
using System.Net.Sockets;

namespace Headless.Discovery;

/// <summary>Why an address can never be a pod (or a name server).</summary>
internal enum AddressProblem
{
    None,
    Unspecified,
    Multicast,
    Broadcast,
}

/// <summary>
/// Address hygiene for untrusted answers: drops unspecified, multicast and broadcast addresses and counts them per kind,
/// so one log line can say what a round dropped. A counter kept in one method; not thread-safe.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1815", Justification = "A counter kept in one method, never compared.")]
internal struct AddressHygiene
{
    public int Unspecified { get; private set; }

    public int Multicast { get; private set; }

    public int Broadcast { get; private set; }

    public readonly int Dropped => Unspecified + Multicast + Broadcast;

    /// <summary>Returns <see langword="true"/> (and counts it) when <paramref name="address"/> must be dropped.</summary>
    public bool Drop(IPAddress address)
    {
        switch (Classify(address))
        {
            case AddressProblem.Unspecified:
                Unspecified++;
                return true;
            case AddressProblem.Multicast:
                Multicast++;
                return true;
            case AddressProblem.Broadcast:
                Broadcast++;
                return true;
            default:
                return false;
        }
    }

    /// <summary>What, if anything, makes <paramref name="address"/> unusable (IPv4-mapped IPv6 is read as IPv4).</summary>
    public static AddressProblem Classify(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            Span<byte> bytes = stackalloc byte[4];
            address.TryWriteBytes(bytes, out _);
            if (bytes[0] == 0 && bytes[1] == 0 && bytes[2] == 0 && bytes[3] == 0)
            {
                return AddressProblem.Unspecified;
            }

            if (bytes[0] == 255 && bytes[1] == 255 && bytes[2] == 255 && bytes[3] == 255)
            {
                return AddressProblem.Broadcast;
            }

            return bytes[0] is >= 224 and <= 239 ? AddressProblem.Multicast : AddressProblem.None;
        }

        if (address.Equals(IPAddress.IPv6Any))
        {
            return AddressProblem.Unspecified;
        }

        return address.IsIPv6Multicast ? AddressProblem.Multicast : AddressProblem.None;
    }
}
