using System.Net;
using Headless.Discovery.Testing;

namespace Headless.Discovery.Tests.Selection;

/// <summary>Pods and health tuples for tests over a <see cref="FakeHeadlessService"/>.</summary>
internal static class TestPods
{
    /// <summary>The name of a <see cref="FakeHeadlessService"/> built without one.</summary>
    public static readonly ServiceName ServiceName = ServiceName.Parse("web.default.svc.cluster.local");

    public static PodEndpoint Pod(int n, int port = 80) => new(IPAddress.Parse($"10.0.{n / 250}.{(n % 250) + 1}"), port);

    public static PodEndpoint[] Pods(int count, int first = 0) => [.. Enumerable.Range(first, count).Select(i => Pod(i))];

    public static PodEndpoint StatefulPod(int ordinal, string set = "web", int? addressIndex = null) =>
        new(IPAddress.Parse($"10.2.0.{(addressIndex ?? ordinal) + 1}"), 5432, $"{set}-{ordinal}.{set}.default.svc.cluster.local");

    /// <summary>Publishes pods with a health and an ejection flag each (a shorthand for one <see cref="EndpointStatus"/> per pod).</summary>
    public static EndpointSet Publish(this FakeHeadlessService service, IEnumerable<(PodEndpoint Pod, EndpointHealth Health, bool Ejected)> pods, bool panic = false) =>
        service.Publish(pods.Select(p => new EndpointStatus(p.Pod, p.Health, p.Ejected)), panic);
}
