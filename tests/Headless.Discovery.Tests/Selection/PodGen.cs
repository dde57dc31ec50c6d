using System.Net;
using CsCheck;

namespace Headless.Discovery.Tests.Selection;

/// <summary>Generators of pods as DNS answers deliver them: any IPv4 or IPv6 address, any port, with or without a hostname.</summary>
internal static class PodGen
{
    private static readonly Gen<string?> Hostname =
        Gen.Frequency(
            (1, Gen.Const((string?)null)),
            (2, from name in Gen.Char["abcdefghijklmnopqrstuvwxyz0123456789-"].Array[1, 20]
                from ordinal in Gen.Int[0, 5000]
                select (string?)$"{new string(name)}-{ordinal}.svc.ns.svc.cluster.local"));

    public static readonly Gen<PodEndpoint> Pod =
        from v6 in Gen.Bool
        from bytes in Gen.Byte.Array[v6 ? 16 : 4]
        from port in Gen.Int[0, 65535]
        from hostname in Hostname
        select new PodEndpoint(new IPAddress(bytes), port, hostname);

    /// <summary><paramref name="count"/> distinct pods.</summary>
    public static Gen<PodEndpoint[]> Pods(int count) =>
        Pod.Array[count + 8].Select(p => p.Distinct().Take(count).ToArray()).Where(p => p.Length == count);
}
