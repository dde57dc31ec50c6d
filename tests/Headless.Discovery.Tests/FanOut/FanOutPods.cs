using Headless.Discovery.Testing;
using System.Net;
using Headless.Discovery;
using Headless.Discovery.Tests.Selection;

namespace Headless.Discovery.Tests.FanOut;

/// <summary>Loopback pod identities for fan-outs whose operations never touch the network.</summary>
internal static class FanOutPods
{
    /// <summary><paramref name="count"/> pods on 127.0.1.x (loopback only, even when nothing is sent).</summary>
    public static PodEndpoint[] Loopback(int count) =>
        [.. Enumerable.Range(0, count).Select(i => new PodEndpoint(IPAddress.Parse($"127.0.{1 + (i / 250)}.{1 + (i % 250)}"), 8080))];

    /// <summary>
    /// A service double with <paramref name="count"/> loopback pods (an empty, initialized snapshot for 0), running on
    /// <paramref name="time"/> (default: the system clock).
    /// </summary>
    public static FakeHeadlessService Service(int count, TimeProvider? time = null)
    {
        var service = new FakeHeadlessService(Loopback(count)) { TimeProvider = time ?? TimeProvider.System };
        if (count == 0)
        {
            service.Publish([]);
        }

        return service;
    }
}
