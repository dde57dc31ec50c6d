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

    private HeadlessService Start(string probe)
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
        options.ActiveHealth.Probe = probe;
        options.ActiveHealth.Interval = TimeSpan.FromMilliseconds(100);
        options.ActiveHealth.Timeout = TimeSpan.FromSeconds(5);
        options.ActiveHealth.HealthyThreshold = 1;
        options.ActiveHealth.UnhealthyThreshold = 2;
        var service = new HeadlessService(options);
        service.Start();
        return service;
    }

    private static Task<EndpointSet> WaitAsync(HeadlessService service, Func<EndpointSet, bool> condition) =>
        service.WaitAsync(condition, CancellationToken.None).AsTask().WaitAsync(Generous);

    [Fact]
    public async Task A_pod_failing_its_tcp_probes_moves_only_about_one_nth_of_the_keys()
    {
        await using HeadlessService service = Start("tcp");
        EndpointSet all = await WaitAsync(service, s => s.Count == 10 && s.HealthyCount == 10);
        ConsistentHashSelector selector = EndpointSelectors.ConsistentHash(service);
        PodEndpoint[] before = ConsistentHashSelectorTests.Map(selector);

        LoopbackPod stopped = _pods.Pods[2];
        PodEndpoint endpoint = all.Endpoints.Single(e => e.Address.Equals(stopped.Address));
        await stopped.StopAsync();
        await WaitAsync(service, s => s.GetStatus(endpoint)?.Health == EndpointHealth.Unhealthy);

        ConsistentHashSelectorTests.AssertOneNth(10, before, ConsistentHashSelectorTests.Map(selector), endpoint, "active health");
    }

    [Fact]
    public async Task A_pod_ejected_by_reported_failures_then_one_leaving_dns_each_move_only_about_one_nth_of_the_keys()
    {
        // No active probes here: a passing probe would end the ejection at once.
        await using HeadlessService service = Start("none");
        EndpointSet all = await WaitAsync(service, s => s.Count == 10);
        ConsistentHashSelector selector = EndpointSelectors.ConsistentHash(service);
        PodEndpoint[] start = ConsistentHashSelectorTests.Map(selector);

        PodEndpoint failing = all.Endpoints[5];
        for (int i = 0; i < 5; i++)
        {
            service.ReportOutcome(failing, false, TimeSpan.FromMilliseconds(1));
        }

        Assert.True(service.Current.GetStatus(failing)!.IsEjected);
        PodEndpoint[] ejected = ConsistentHashSelectorTests.Map(selector);
        ConsistentHashSelectorTests.AssertOneNth(10, start, ejected, failing, "passive ejection");

        PodEndpoint leaving = all.Endpoints[7];
        _dns.SetAddresses(Name, all.Endpoints.Where(e => e != leaving).Select(e => e.Address));
        EndpointSet smaller = await service.RefreshAsync().AsTask().WaitAsync(Generous);
        Assert.Equal(9, smaller.Count);
        Assert.Equal(8, smaller.Available.Length);
        ConsistentHashSelectorTests.AssertOneNth(9, ejected, ConsistentHashSelectorTests.Map(selector), leaving, "DNS membership");
    }
}
