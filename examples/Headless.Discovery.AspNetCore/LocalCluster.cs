using System.Globalization;
using Headless.Discovery.Testing;

namespace Headless.Discovery.Examples.AspNetCore;

/// <summary>
/// A headless Service without a cluster, like <c>headless-discovery demo</c>: an embedded DNS server on loopback
/// answers for <see cref="ServiceName"/> with one A record per pod, and the pods are tiny real HTTP servers on
/// 127.x loopback addresses. Used when no <c>HeadlessDiscovery:Services:backend:Name</c> is configured.
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    /// <summary>The name the embedded DNS server answers for.</summary>
    public const string ServiceName = "backend.default.svc.cluster.local";

    private static readonly TimeSpan RecordTtl = TimeSpan.FromSeconds(1);

    private LocalCluster(EmbeddedDnsServer dns, LoopbackPodSet pods)
    {
        Dns = dns;
        Pods = pods;
    }

    /// <summary>The DNS server.</summary>
    public EmbeddedDnsServer Dns { get; }

    /// <summary>The pods.</summary>
    public LoopbackPodSet Pods { get; }

    /// <summary>Starts the DNS server and <paramref name="pods"/> pods, and publishes them.</summary>
    public static async Task<LocalCluster> StartAsync(int pods = 3, CancellationToken cancellationToken = default)
    {
        EmbeddedDnsServer dns = await EmbeddedDnsServer.StartAsync(cancellationToken: cancellationToken);
        try
        {
            LoopbackPodSet set = await LoopbackPodSet.StartAsync(pods, 0, "backend", cancellationToken);
            var cluster = new LocalCluster(dns, set);
            cluster.Publish();
            return cluster;
        }
        catch
        {
            await dns.DisposeAsync();
            throw;
        }
    }

    /// <summary>Publishes the running pods' A records (call after scaling or replacing pods).</summary>
    public void Publish() => Pods.SyncToDns(Dns, ServiceName, RecordTtl);

    /// <summary>The configuration of service key <paramref name="key"/> that points at this cluster.</summary>
    public Dictionary<string, string?> Configuration(string key)
    {
        string section = "HeadlessDiscovery:Services:" + key + ":";
        return new Dictionary<string, string?>
        {
            [section + "Name"] = ServiceName + ".",
            [section + "Port"] = Pods.Port.ToString(CultureInfo.InvariantCulture),
            [section + "DnsServers:0"] = Dns.NameServer,
            [section + "MinRefreshInterval"] = "00:00:00.500",
            [section + "MaxRefreshInterval"] = "00:00:01",
            [section + "FailureBackoffBase"] = "00:00:00.500",
            [section + "FailureBackoffMax"] = "00:00:01",
            [section + "MinEndpoints"] = "1",
            [section + "ActiveHealth:Probe"] = "http:/",
            [section + "ActiveHealth:Interval"] = "00:00:01",
            [section + "ActiveHealth:Timeout"] = "00:00:00.500",
        };
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await Pods.DisposeAsync();
        await Dns.DisposeAsync();
    }
}
