using Headless.Discovery;
using Headless.Discovery.Testing;

namespace Headless.Discovery.Tests.Selection;

/// <summary>
/// Consistent hashing over a real <see cref="HeadlessService"/>: real DNS answers from the embedded server, real TCP
/// probes against loopback pods, real passive ejection through reported outcomes. Waits on published snapshots.
/// </summary>
public sealed class ConsistentHashLiveServiceTests : IAsyncLifetime
{
    private const string Name = "hash.default.svc.cluster.local";
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);
    private EmbeddedDnsServer _dns = null!;
    private LoopbackPodSet _pods = null!;

    public async Task InitializeAsync()
    {
        _dns = await EmbeddedDnsServer.StartAsync();
        _pods = await LoopbackPodSet.StartAsync(10, namePrefix: "hash");
        _pods.SyncToDns(_dns, Name);
    }

    public async Task DisposeAsync()
    {
        await _pods.DisposeAsync();
        await _dns.DisposeAsync();
    }

    [Fact]
    public async Task A_pod_turning_unhealthy_then_one_ejected_then_one_leaving_dns_each_move_only_about_one_nth_of_the_keys()
    {
        var options = new HeadlessServiceOptions
        {
            Name = Name,
            Port = _pods.Port,
            MaxRefreshInterval = TimeSpan.FromHours(1),
            DnsAttemptTimeout = TimeSpan.FromSeconds(2),
            DnsRetryCount = 1,
        };
        options.DnsServers.Add(_dns.NameServer);
        options.Health.Probe = "tcp";
        options.Health.Interval = TimeSpan.FromMilliseconds(100);
        options.Health.Timeout = TimeSpan.FromSeconds(5);
        options.Health.HealthyThreshold = 1;
        options.Health.UnhealthyThreshold = 2;
        await using var service = new HeadlessService(options);
        service.Start();
        EndpointSet all = await service.WaitAsync(s => s.Count == 10 && s.HealthyCount == 10, CancellationToken.None).AsTask().WaitAsync(Generous);
        ConsistentHashSelector selector = EndpointSelectors.ConsistentHash(service);
        PodEndpoint[] start = ConsistentHashSelectorTests.Map(selector);
        PodEndpoint Endpoint(LoopbackPod pod) => all.Endpoints.Single(e => e.Address.Equals(pod.Address));

        // Active health: a stopped pod fails its TCP probes.
        LoopbackPod stopped = _pods.Pods[2];
        await stopped.StopAsync();
        await service.WaitAsync(s => s.GetStatus(Endpoint(stopped))?.Health == EndpointHealth.Unhealthy, CancellationToken.None).AsTask().WaitAsync(Generous);
        PodEndpoint[] unhealthy = ConsistentHashSelectorTests.Map(selector);
        ConsistentHashSelectorTests.AssertOneNth(10, start, unhealthy, Endpoint(stopped), "active health");

        // Passive health: five failures in a row eject a pod.
        PodEndpoint failing = Endpoint(_pods.Pods[5]);
        for (int i = 0; i < 5; i++)
        {
            service.ReportOutcome(failing, EndpointOutcome.Failure(TimeSpan.FromMilliseconds(1)));
        }

        Assert.True(service.Current.GetStatus(failing)!.IsEjected);
        PodEndpoint[] ejected = ConsistentHashSelectorTests.Map(selector);
        ConsistentHashSelectorTests.AssertOneNth(9, unhealthy, ejected, failing, "passive ejection");

        // Membership: a pod leaves the DNS answer (the stopped pod stays in it, as a crashed pod does until its
        // readiness probe fails).
        PodEndpoint leaving = Endpoint(_pods.Pods[7]);
        _dns.SetAddresses(Name, all.Endpoints.Where(e => e != leaving).Select(e => e.Address));
        EndpointSet smaller = await service.RefreshAsync().AsTask().WaitAsync(Generous);
        Assert.Equal(9, smaller.Count);
        Assert.Equal(7, smaller.Available.Length);
        ConsistentHashSelectorTests.AssertOneNth(8, ejected, ConsistentHashSelectorTests.Map(selector), leaving, "DNS membership");
    }
}
