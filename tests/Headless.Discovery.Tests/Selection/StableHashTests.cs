using System.Buffers.Binary;
using System.Net;
using CsCheck;
using Headless.Discovery;
using Headless.Discovery.TestSupport;

namespace Headless.Discovery.Tests.Selection;

/// <summary>
/// <see cref="StableHash"/> is promised to give the same value in every process, on every platform and in every version:
/// the values below are pinned (computed by an independent implementation of FNV-1a 64, the length, and SplitMix64's
/// finalizer), so any change to the hash, which would remap every consistent-hash key and subset, fails here.
/// </summary>
public sealed class StableHashTests
{
    public static TheoryData<string, ulong> ByteVectors => new()
    {
        { string.Empty, 0xF52A15E9A9B5E89BUL },
        { "61", 0x8097CA68B9CC797BUL },
        { "00", 0x4D2E17CFF9D47D4BUL },
        { "0000", 0xBBAFEFF6715F7059UL },
        { "FFFFFF", 0x178F6BBF5F94E8D2UL },
        { "000102030405060708090A0B0C0D0E0F10", 0x3D9C41E514991F59UL },
        { "757365722D3432", 0xB585C98067F3785EUL }, // "user-42" in ASCII
    };

    public static TheoryData<string, ulong> CharVectors => new()
    {
        { string.Empty, 0xF52A15E9A9B5E89BUL },
        { "a", 0xD5B12175A45538C4UL },
        { "user-42", 0xBD3ECE943BD097EEUL },
        { "tenant-7", 0x8300E35FD7CA0387UL },
        { "\u00E9\u4E2D\uD83D\uDE00", 0xDB8738FAD918BEF1UL }, // é, 中 and a surrogate pair: code units above 0xFF
        { "web-0.web.default.svc.cluster.local", 0x08D832F89DF54926UL },
    };

    public static TheoryData<long, ulong> LongVectors => new()
    {
        { 0L, 0x2AB0190E678F8793UL },
        { 1L, 0xE0A4B28DE12AA617UL },
        { -1L, 0x5053A521B246A9A0UL },
        { 42L, 0x035A59F36EE87F0DUL },
        { long.MaxValue, 0x9ECFEF43BB3CD5E6UL },
        { long.MinValue, 0x16771BFFC1578919UL },
        { 0x0123456789ABCDEFL, 0xF58F320C1A68C38BUL },
    };

    [Theory]
    [MemberData(nameof(ByteVectors))]
    public void The_hash_of_bytes_is_pinned(string hex, ulong expected) =>
        Assert.Equal(expected, StableHash.Hash((ReadOnlySpan<byte>)Convert.FromHexString(hex)));

    [Theory]
    [MemberData(nameof(CharVectors))]
    public void The_hash_of_text_is_pinned(string text, ulong expected) =>
        Assert.Equal(expected, StableHash.Hash(text.AsSpan()));

    [Theory]
    [MemberData(nameof(LongVectors))]
    public void The_hash_of_a_64_bit_key_is_pinned(long key, ulong expected) =>
        Assert.Equal(expected, StableHash.Hash(key));

    [Fact]
    public void The_identity_hash_of_a_pod_is_pinned_with_and_without_a_hostname()
    {
        // Pods are hashed by identity (address, port, hostname) so that every client builds the same tables.
        Assert.Equal(0xE7A0EBEEBB61DDA0UL, StableHash.Of(new PodEndpoint(IPAddress.Parse("10.0.0.1"), 80)));
        Assert.Equal(0x3AB775D344C8FED9UL, StableHash.Of(new PodEndpoint(IPAddress.Parse("fd00::1"), 8080)));
        Assert.Equal(0x82B78D76F35C90E4UL, StableHash.Of(new PodEndpoint(IPAddress.Parse("10.2.0.1"), 5432, "web-0.web.default.svc.cluster.local")));
    }

    [Fact]
    public void Combining_two_hashes_is_pinned_and_order_sensitive()
    {
        Assert.Equal(0xBEEB8DA1658EEC67UL, StableHash.Combine(1, 2));
        Assert.Equal(0x975835DE1C9756CEUL, StableHash.Combine(2, 1));
        Assert.Equal(0xEEE47407B0A2066FUL, StableHash.Combine(0, 1UL << 63));
    }

    [Fact]
    public void Text_hashes_as_its_utf16_little_endian_bytes_and_a_64_bit_key_as_its_eight_little_endian_bytes()
    {
        Gen<(string Text, long Key)> cases = Gen.Select(Gen.String, Gen.Long);
        Property.ForAll(
            cases,
            iterations: 500,
            seed: 0x10_05_0001UL,
            c =>
            {
                // Code unit by code unit, lone surrogates included (an Encoding would replace those).
                byte[] utf16 = new byte[c.Text.Length * 2];
                for (int i = 0; i < c.Text.Length; i++)
                {
                    BinaryPrimitives.WriteUInt16LittleEndian(utf16.AsSpan(i * 2), c.Text[i]);
                }

                Assert.Equal(StableHash.Hash((ReadOnlySpan<byte>)utf16), StableHash.Hash(c.Text.AsSpan()));
                byte[] bytes = new byte[8];
                BinaryPrimitives.WriteInt64LittleEndian(bytes, c.Key);
                Assert.Equal(StableHash.Hash((ReadOnlySpan<byte>)bytes), StableHash.Hash(c.Key));
            },
            print: c => $"\"{c.Text}\", {c.Key}");
    }
}
