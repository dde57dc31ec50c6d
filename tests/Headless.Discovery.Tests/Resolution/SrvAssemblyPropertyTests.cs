using System.Net;
using CsCheck;
using Headless.Discovery.Testing;
using Headless.Discovery.TestSupport;

namespace Headless.Discovery.Tests.Resolution;

/// <summary>
/// SRV answers with many targets, generated: every target with addresses gets one endpoint per (address, port of each
/// of its records), whether its addresses came in the additional section or from a follow-up lookup, with its hostname
/// and ordinal; targets without addresses (NODATA, NXDOMAIN) are skipped; the TTL is the smallest of the records used.
/// </summary>
public sealed class SrvAssemblyPropertyTests : IAsyncLifetime
{
    private const string Service = "web.default.svc.cluster.local";
    private const string Srv = "_http._tcp." + Service;

    private EmbeddedDnsServer _dns = null!;

    public async Task InitializeAsync() => _dns = await EmbeddedDnsServer.StartAsync();

    public async Task DisposeAsync() => await _dns.DisposeAsync();

    [Fact]
    public async Task Every_SRV_target_gets_its_addresses_and_ports()
    {
        // Kind 0 (most): has addresses; 1: exists without addresses (NODATA); 2: does not exist (NXDOMAIN).
        Gen<Target> target = Gen.Select(
            Gen.Frequency((8, Gen.Const(0)), (1, Gen.Const(1)), (1, Gen.Const(2))),
            Gen.Int[1, 250].Array[1, 3],
            Gen.Int[1, 65535].Array[1, 2],
            Gen.Int[1, 600]).Select((kind, hosts, ports, ttl) => new Target(kind, hosts, ports, ttl));
        Gen<(Target[] Targets, bool Additional, int SrvTtl)> zone = Gen.Select(target.Array[1, 120], Gen.Bool, Gen.Int[1, 600]);

        var options = new DnsEndpointResolverOptions { DnsAttemptTimeout = TimeSpan.FromSeconds(5), DnsRetryCount = 0, UseSrv = true };
        options.DnsServers.Add(_dns.NameServer);
        var resolver = new DnsResolver(options);

        await Property.ForAllAsync(
            zone,
            iterations: 40,
            seed: 0x10120001UL,
            async z =>
            {
                _dns.Clear();
                var expected = new HashSet<(string Address, int Port, string Host)>();
                uint ttl = (uint)z.SrvTtl;
                var records = new List<SrvTarget>();
                for (int i = 0; i < z.Targets.Length; i++)
                {
                    Target t = z.Targets[i];
                    string host = $"web-{i}.{Service}";
                    records.AddRange(t.Ports.Select(port => new SrvTarget(host, port)));
                    IPAddress[] addresses = t.Kind == 0 ? t.Addresses : [];
                    if (t.Kind != 2)
                    {
                        _dns.SetAddresses(host, addresses, TimeSpan.FromSeconds(t.TtlSeconds));
                    }

                    foreach (IPAddress address in addresses)
                    {
                        ttl = Math.Min(ttl, (uint)t.TtlSeconds);
                        expected.UnionWith(t.Ports.Select(port => (address.ToString(), port, host)));
                    }
                }

                _dns.SetSrvRecords(Srv, records, TimeSpan.FromSeconds(z.SrvTtl), includeAddressesInAdditionalSection: z.Additional);

                ResolutionResult result = await resolver.ResolveAsync(ServiceName.Parse(Srv)).AsTask().WaitAsync(Generous);

                if (expected.Count == 0)
                {
                    Assert.Equal(ResolutionOutcome.NoData, result.Outcome);
                    return;
                }

                Assert.Equal(ResolutionOutcome.Success, result.Outcome);
                Assert.Equal(expected.Order(), result.Endpoints.Select(e => (e.Address.ToString(), e.Port, e.Hostname!)).Order());
                Assert.All(result.Endpoints, e => Assert.Equal(int.Parse(e.Hostname![4..e.Hostname!.IndexOf('.')], System.Globalization.CultureInfo.InvariantCulture), e.Ordinal));
                Assert.Equal(TimeSpan.FromSeconds(ttl), result.Ttl);
            });
    }

    [Fact]
    public async Task Every_SRV_target_gets_the_addresses_its_family_setting_allows()
    {
        // Each target has some IPv4 and some IPv6 addresses (either may be none). IPv4 / IPv6 keep their family, Both
        // keeps all, a preferred family keeps that family when the target has any, else the other.
        Gen<(int[] V4, int[] V6)> target = Gen.Select(Gen.Int[1, 250].Array[0, 2], Gen.Int[1, 250].Array[0, 2]);
        Gen<((int[] V4, int[] V6)[] Targets, bool Additional, DnsAddressFamily Family)> zone =
            Gen.Select(target.Array[1, 30], Gen.Bool, Gen.Enum<DnsAddressFamily>());

        await Property.ForAllAsync(
            zone,
            iterations: 60,
            seed: 0x13_06_0001UL,
            async z =>
            {
                _dns.Clear();
                var options = new DnsEndpointResolverOptions { DnsAttemptTimeout = TimeSpan.FromSeconds(5), DnsRetryCount = 0, UseSrv = true, AddressFamily = z.Family };
                options.DnsServers.Add(_dns.NameServer);
                var expected = new HashSet<(string Address, int Port, string Host)>();
                var records = new List<SrvTarget>();
                for (int i = 0; i < z.Targets.Length; i++)
                {
                    string host = $"web-{i}.{Service}";
                    IPAddress[] v4 = [.. z.Targets[i].V4.Distinct().Select(h => new IPAddress([127, 0, 1, (byte)h]))];
                    IPAddress[] v6 = [.. z.Targets[i].V6.Distinct().Select(h => IPAddress.Parse($"fd00::{h:x}"))];
                    records.Add(new SrvTarget(host, 8080));
                    _dns.SetAddresses(host, [.. v4, .. v6]);
                    IPAddress[] kept = z.Family switch
                    {
                        DnsAddressFamily.IPv4 => v4,
                        DnsAddressFamily.IPv6 => v6,
                        DnsAddressFamily.IPv4Preferred => v4.Length > 0 ? v4 : v6,
                        DnsAddressFamily.IPv6Preferred => v6.Length > 0 ? v6 : v4,
                        _ => [.. v4, .. v6],
                    };
                    expected.UnionWith(kept.Select(a => (a.ToString(), 8080, host)));
                }

                _dns.SetSrvRecords(Srv, records, includeAddressesInAdditionalSection: z.Additional);

                ResolutionResult result = await new DnsResolver(options).ResolveAsync(ServiceName.Parse(Srv)).AsTask().WaitAsync(Generous);

                Assert.Equal(expected.Count == 0 ? ResolutionOutcome.NoData : ResolutionOutcome.Success, result.Outcome);
                Assert.Equal(expected.Order(), result.Endpoints.Select(e => (e.Address.ToString(), e.Port, e.Hostname!)).Order());
            });
    }

    /// <summary>A generated SRV target: its kind, its addresses (loopback, distinct) and the ports of its records.</summary>
    private sealed record Target(int Kind, int[] Hosts, int[] Ports, int TtlSeconds)
    {
        public IPAddress[] Addresses { get; } = Hosts.Distinct().Select(h => new IPAddress([127, 0, (byte)(h % 7), (byte)h])).ToArray();
    }
}
