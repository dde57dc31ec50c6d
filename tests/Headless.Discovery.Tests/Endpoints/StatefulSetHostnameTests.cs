using System.Globalization;
using System.Net;
using CsCheck;
using Headless.Discovery.TestSupport;
using Headless.Discovery;
using Headless.Discovery.Tests.Selection;

namespace Headless.Discovery.Tests.Endpoints;

/// <summary>
/// StatefulSet identity from a pod's hostname: only a canonical first label <c>&lt;set&gt;-&lt;n&gt;</c> names a set and
/// an ordinal (set: a DNS label prefix that starts with a letter or digit and does not end with '-'; n: decimal, no
/// leading zero, within int), and a pod IP spelled with dashes (CoreDNS's hostname for pods without one) is not one.
/// </summary>
public sealed class StatefulSetHostnameTests
{
    private const string Suffix = ".web.default.svc.cluster.local";
    private const string LabelChars = "abcdefghijklmnopqrstuvwxyz0123456789-";
    private const string Alphanumerics = "abcdefghijklmnopqrstuvwxyz0123456789";

    private static PodEndpoint Pod(string hostname) => new(IPAddress.Parse("10.2.0.1"), 5432, hostname);

    /// <summary>Whether a label is a pod IP written with dashes: four decimal octets, or IPv6 with ':' as '-'.</summary>
    private static bool IsDashedIp(string label)
    {
        string[] parts = label.Split('-');
        if (parts.Length == 4 && parts.All(p => p.Length is > 0 and <= 3 && p.All(char.IsAsciiDigit) && int.Parse(p, CultureInfo.InvariantCulture) <= 255))
        {
            return true;
        }

        return IPAddress.TryParse(label.Replace('-', ':'), out IPAddress? v6) && v6.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
    }

    /// <summary>A canonical set name: starts with a letter or digit, does not end with '-', 1 to 50 characters.</summary>
    private static readonly Gen<string> SetName =
        from first in Gen.Char[Alphanumerics]
        from middle in Gen.Char[LabelChars].Array[0, 48]
        from last in Gen.Char[Alphanumerics]
        from single in Gen.Bool
        select single ? first.ToString() : first + new string(middle) + last;

    private static readonly Gen<int> OrdinalValue = Gen.Frequency((3, Gen.Int[0, 20]), (1, Gen.Int[0, int.MaxValue]), (1, Gen.OneOf(0, 9, 10, int.MaxValue)));

    private static readonly Gen<string> DashedIp = Gen.OneOf(
        Gen.Byte.Array[4].Select(b => string.Join('-', b)),
        Gen.Byte.Array[16].Select(b => new IPAddress(b).ToString().Replace(':', '-')));

    [Fact]
    public void Canonical_hostnames_parse_to_set_and_ordinal_and_dashed_pod_ips_do_not()
    {
        Gen<string> labels = Gen.Frequency(
            (6, from set in SetName from n in OrdinalValue select set + "-" + n.ToString(CultureInfo.InvariantCulture)),
            (1, DashedIp));

        Property.ForAll(
            from label in labels
            from suffix in Gen.OneOf(Suffix, string.Empty, ".")
            select (label, suffix),
            iterations: 400,
            seed: 0x10010006UL,
            c =>
            {
                PodEndpoint pod = Pod(c.label + c.suffix);
                if (IsDashedIp(c.label))
                {
                    Assert.Null(pod.Ordinal);
                    Assert.Null(pod.StatefulSetName);
                    return;
                }

                int dash = c.label.LastIndexOf('-');
                Assert.Equal(int.Parse(c.label.AsSpan(dash + 1), CultureInfo.InvariantCulture), pod.Ordinal);
                Assert.Equal(c.label[..dash], pod.StatefulSetName);
            },
            print: c => c.label + c.suffix);
    }

    [Fact]
    public void Non_canonical_hostnames_never_parse()
    {
        Gen<string> nonCanonical = Gen.OneOf(
            from set in SetName from digits in Gen.Int[0, 99999] select $"{set}-0{digits}",                              // leading zero
            from set in SetName from n in OrdinalValue select $"{set}--{n}",                                             // double dash
            from set in SetName select set + "-",                                                                        // trailing dash
            from set in SetName from n in Gen.Int[0, 999] from c in Gen.Char["abcdefghijklmnopqrstuvwxyz_"] select $"{set}-{n}{c}", // not digits
            from set in SetName from c in Gen.Char["abcdefghijklmnopqrstuvwxyz"] select $"{set}-{c}",                      // not digits at all
            from set in SetName from n in Gen.Long[(long)int.MaxValue + 1, long.MaxValue] select $"{set}-{n}",            // overflow
            from set in SetName from extra in Gen.Int[1, 9] select $"{set}-{new string('9', 10 + extra)}",               // overflow, long
            from n in OrdinalValue select $"-{n}",                                                                       // no set
            from set in SetName from n in OrdinalValue select $"-{set}-{n}",                                             // set starts with '-'
            from set in SetName from n in OrdinalValue from c in Gen.Char["_*~ "] select $"{set}{c}-{n}",                  // not a DNS label
            Gen.Char[Alphanumerics].Array[1, 20].Select(name => new string(name)),                                       // no dash
            from n in OrdinalValue select $"{new string('a', 63)}-{n}");                                                 // label over 63

        Property.ForAll(
            from label in nonCanonical
            from suffix in Gen.OneOf(Suffix, string.Empty)
            select label + suffix,
            iterations: 400,
            seed: 0x10010007UL,
            hostname =>
            {
                Assert.Null(Pod(hostname).Ordinal);
                Assert.Null(Pod(hostname).StatefulSetName);
            },
            print: hostname => hostname);
    }

    [Theory]
    [InlineData("web-0" + Suffix, "web", 0)]
    [InlineData("web-2" + Suffix, "web", 2)]
    [InlineData("web-10", "web", 10)]
    [InlineData("Web-3.WEB.default.svc.cluster.local.", "web", 3)]
    [InlineData("my--db-7" + Suffix, "my--db", 7)]
    [InlineData("redis-cluster-0" + Suffix, "redis-cluster", 0)]
    [InlineData("123-4", "123", 4)]
    [InlineData("1-2-3-256", "1-2-3", 256)]
    [InlineData("web-2147483647", "web", int.MaxValue)]
    [InlineData("web-01", null, null)]
    [InlineData("web-00", null, null)]
    [InlineData("web--4", null, null)]
    [InlineData("web-", null, null)]
    [InlineData("web-4a", null, null)]
    [InlineData("web-2147483648", null, null)]
    [InlineData("-4", null, null)]
    [InlineData("web4", null, null)]
    [InlineData("10-1-2-3" + Suffix, null, null)]
    [InlineData("fd00--1" + Suffix, null, null)]
    [InlineData("2001-db8-0-1-2-3-4-5" + Suffix, null, null)]
    public void Hand_picked_hostnames(string hostname, string? set, int? ordinal)
    {
        Assert.Equal(ordinal, Pod(hostname).Ordinal);
        Assert.Equal(set, Pod(hostname).StatefulSetName);
    }
}
