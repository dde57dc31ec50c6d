using Headless.Discovery.Testing;
using Headless.Discovery;
using static Headless.Discovery.Tests.Selection.TestPods;

namespace Headless.Discovery.Tests.Selection;

/// <summary>The pick path allocates nothing: measured with the thread's allocation counter, not timed.</summary>
public sealed class SelectorAllocationTests
{
    [Theory]
    [InlineData(3)]
    [InlineData(100)]
    [InlineData(1000)]
    public void Picks_and_leases_allocate_nothing(int pods)
    {
        var service = new FakeHeadlessService([.. Enumerable.Range(0, pods).Select(i => StatefulPod(i, addressIndex: i % 200, set: "s" + (i / 200)))]);
        IEndpointSelector[] selectors =
        [
            EndpointSelectors.RoundRobin(service),
            EndpointSelectors.Random(service),
            EndpointSelectors.Random(service, seed: 1),
            EndpointSelectors.LeastRequest(service),
            EndpointSelectors.PickFirst(service),
            EndpointSelectors.Subset(service, 10, "me"),
            EndpointSelectors.Ordinal(service),
        ];
        ConsistentHashSelector hash = EndpointSelectors.ConsistentHash(service);

        for (int round = 0; round < 2; round++)
        {
            // Round 0 warms up (tables built, methods jitted); round 1 is measured.
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 10_000; i++)
            {
                foreach (IEndpointSelector selector in selectors)
                {
                    _ = selector.Pick();
                    _ = selector.TryPick(out _);
                    using EndpointLease lease = selector.Lease();
                }

                _ = hash.Pick((ulong)i * 0x9E3779B97F4A7C15UL);
                _ = hash.Pick("tenant-7");
            }

            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (round == 1)
            {
                Assert.Equal(0, allocated);
            }
        }
    }
}
