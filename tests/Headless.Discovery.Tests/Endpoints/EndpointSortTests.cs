using System.Net;

namespace Headless.Discovery.Tests.Endpoints;

public class EndpointSortTests
{
    private static readonly ServiceName Svc = ServiceName.Parse("web.default.svc.cluster.local");

    [Fact]
    public void A_large_ipv4_answer_sorted_on_primitive_keys_matches_the_comparison_order_and_drops_duplicates()
    {
        var random = new Random(42);
        var endpoints = new List<PodEndpoint>();
        for (int i = 0; i < 500; i++)
        {
            var address = new IPAddress([(byte)random.Next(0, 256), (byte)random.Next(0, 256), (byte)random.Next(0, 256), (byte)random.Next(0, 256)]);
            endpoints.Add(new PodEndpoint(address, random.Next(0, 3) * 1000));
        }

        endpoints.AddRange(endpoints.Take(20).Select(e => new PodEndpoint(e.Address, e.Port)));
        endpoints.Add(new PodEndpoint(IPAddress.Parse("255.255.255.254"), 65535));
        endpoints.Add(new PodEndpoint(IPAddress.Parse("0.0.0.1"), 0));

        EndpointSet set = EndpointSet.Create(Svc, endpoints, 1, DateTimeOffset.UnixEpoch, TimeSpan.Zero);

        List<PodEndpoint> expected = endpoints.Distinct().ToList();
        expected.Sort((x, y) => x.CompareTo(y));
        Assert.Equal(expected, set.Endpoints);
        for (int i = 1; i < set.Count; i++)
        {
            Assert.True(set.Endpoints[i - 1].CompareTo(set.Endpoints[i]) < 0);
        }
    }

    [Fact]
    public void A_mixed_answer_with_hostnames_and_ipv6_falls_back_to_comparison_order()
    {
        var endpoints = Enumerable.Range(0, 40)
            .Select(i => i % 3 == 0
                ? new PodEndpoint(IPAddress.Parse($"fd00::{40 - i}"), 80)
                : new PodEndpoint(IPAddress.Parse($"10.0.0.{40 - i}"), 80, i % 2 == 0 ? $"web-{i}.web" : null))
            .ToList();

        EndpointSet set = EndpointSet.Create(Svc, endpoints, 1, DateTimeOffset.UnixEpoch, TimeSpan.Zero);

        for (int i = 1; i < set.Count; i++)
        {
            Assert.True(set.Endpoints[i - 1].CompareTo(set.Endpoints[i]) < 0);
        }

        Assert.Equal(40, set.Count);
    }
}
