using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Headless.Discovery;

/// <summary>
/// A 64-bit hash that is the same in every process, on every platform and in every version of this library
/// (unlike <see cref="string.GetHashCode()"/>): FNV-1a over the bytes, xored with the byte count, then a SplitMix64
/// finalizer to spread the bits.
/// Used so that every client maps a key, or a (client, pod) pair, the same way. Internal: its definition is documented
/// on <see cref="ConsistentHashSelector"/> so that users can compute it.
/// </summary>
internal static class StableHash
{
    private const ulong FnvOffset = 0xCBF29CE484222325UL;
    private const ulong FnvPrime = 0x100000001B3UL;

    /// <summary>Hashes <paramref name="key"/>'s bytes.</summary>
    /// <param name="key">The bytes.</param>
    /// <returns>The hash.</returns>
    public static ulong Hash(ReadOnlySpan<byte> key)
    {
        ulong h = FnvOffset;
        foreach (byte b in key)
        {
            h = (h ^ b) * FnvPrime;
        }

        return FastRandom.Mix(h ^ (ulong)key.Length);
    }

    /// <summary>Hashes <paramref name="key"/>'s UTF-16 code units (two bytes each, little-endian order).</summary>
    /// <param name="key">The text.</param>
    /// <returns>The hash.</returns>
    public static ulong Hash(ReadOnlySpan<char> key)
    {
        ulong h = FnvOffset;
        foreach (char c in key)
        {
            h = (h ^ (byte)c) * FnvPrime;
            h = (h ^ (byte)(c >> 8)) * FnvPrime;
        }

        return FastRandom.Mix(h ^ ((ulong)key.Length << 1));
    }

    /// <summary>Hashes a 64-bit integer key (as its eight bytes, little-endian order).</summary>
    /// <param name="key">The key.</param>
    /// <returns>The hash.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Hash(long key)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, key);
        return Hash((ReadOnlySpan<byte>)bytes);
    }

    /// <summary>Combines two hashes, order-sensitive.</summary>
    internal static ulong Combine(ulong a, ulong b) => FastRandom.Mix(a ^ (b * 0x9E3779B97F4A7C15UL) ^ (b >> 29));

    /// <summary>The identity of a pod for hashing: its address, port and hostname, which every client sees alike.</summary>
    internal static ulong Of(PodEndpoint endpoint) =>
        endpoint.Hostname is null ? Hash(endpoint.Key.AsSpan()) : Combine(Hash(endpoint.Key.AsSpan()), Hash(endpoint.Hostname.AsSpan()));
}
