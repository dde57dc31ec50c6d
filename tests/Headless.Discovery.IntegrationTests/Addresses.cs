using System.Net;

namespace Headless.Discovery.IntegrationTests;

/// <summary>Test addresses. 10.x addresses are DNS data only: nothing ever connects to them.</summary>
internal static class Addresses
{
    /// <summary><paramref name="count"/> distinct addresses 10.&lt;block&gt;.x.y, starting at .0.1.</summary>
    public static IReadOnlyList<IPAddress> Range(int block, int count, int start = 1)
    {
        var list = new List<IPAddress>(count);
        for (int i = start; i < start + count; i++)
        {
            list.Add(new IPAddress(new byte[] { 10, (byte)block, (byte)(i / 256), (byte)(i % 256) }));
        }

        return list;
    }
}
