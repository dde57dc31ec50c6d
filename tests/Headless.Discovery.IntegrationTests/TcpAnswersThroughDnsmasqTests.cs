using System.Net;
using CsCheck;
using Headless.Discovery.TestSupport;
using Microsoft.Extensions.Time.Testing;

namespace Headless.Discovery.IntegrationTests;

/// <summary>
/// Answers too large for UDP, through a real dnsmasq. dnsmasq serves each TCP connection from a child process forked
/// when the connection was accepted, holding the hosts data of that moment: an answer read on a connection opened before
/// a change is the old member list, however fresh the server's own data is.
/// </summary>
[Collection(DnsmasqTests.Name)]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class TcpAnswersThroughDnsmasqTests(DnsmasqFixture dnsmasq)
{
    // 300 A records are about 4.8 KB: more than any EDNS buffer dnsmasq answers UDP with (4096 bytes at most), so every
    // answer below comes truncated over UDP and is read over TCP.
    private const int MinPods = 300;
    private const int MaxPods = 420;

    private static int s_names;

    private IPEndPoint Server => new(IPAddress.Loopback, dnsmasq.Port);

    private HeadlessService Service(string name, DnsAddressFamily family = DnsAddressFamily.IPv4)
    {
        var options = new HeadlessServiceOptions
        {
            Name = name,
            Port = 80,
            AddressFamily = family,
            DnsAttemptTimeout = TimeSpan.FromSeconds(5),
            DnsRetryCount = 0,
        };
        options.DnsServers.Add(dnsmasq.NameServer);

        // A fake clock: no refresh runs but the ones the test asks for, so "between rounds" is well defined.
        return new HeadlessService(options, new FakeTimeProvider(DateTimeOffset.UtcNow));
    }

    private static string[] Keys(IEnumerable<IPAddress> addresses) => addresses.Select(a => $"{a}:80").Order(StringComparer.Ordinal).ToArray();

    private static string[] Keys(EndpointSet set) => set.Endpoints.Select(e => e.Key).Order(StringComparer.Ordinal).ToArray();

    private static string NewName(string prefix) => $"{prefix}-{Interlocked.Increment(ref s_names)}.default.svc.cluster.local";

    /// <summary>
    /// Changes the members of one service step by step; after each change has been read by dnsmasq, one
    /// <see cref="HeadlessService.RefreshAsync"/> must see exactly the new members.
    /// </summary>
    private async Task AssertEachChangeIsSeenByTheNextRefreshAsync(IReadOnlyList<IReadOnlyList<IPAddress>> memberships)
    {
        string name = NewName("tcp-fresh");
        await dnsmasq.SetHostsAsync(name, memberships[0]);
        await using HeadlessService service = Service(name);
        EndpointSet set = await service.RefreshAsync().AsTask().WaitAsync(Generous);
        Assert.Equal(Keys(memberships[0]), Keys(set));

        for (int step = 1; step < memberships.Count; step++)
        {
            await dnsmasq.SetHostsAsync(name, memberships[step]);
            set = await service.RefreshAsync().AsTask().WaitAsync(Generous);

            string[] expected = Keys(memberships[step]);
            string[] got = Keys(set);
            Assert.True(
                expected.SequenceEqual(got),
                $"Step {step}: dnsmasq serves {expected.Length} members, the refresh right after saw {got.Length} "
                + $"({expected.Except(got).Count()} missing, {got.Except(expected).Count()} extra): an answer older than the data it asks about.");
        }
    }

    [Fact]
    public async Task An_answer_over_tcp_is_as_fresh_as_one_over_udp()
    {
        // Hand-picked: one pod leaves, then one joins (the smallest change), then the set moves entirely.
        await AssertEachChangeIsSeenByTheNextRefreshAsync(
        [
            Addresses.Range(40, 400),
            Addresses.Range(40, 399),
            Addresses.Range(40, 400),
            Addresses.Range(40, 400, start: 401),
        ]);
    }

    [Fact]
    public async Task An_answer_over_tcp_is_as_fresh_as_one_over_udp_for_any_sequence_of_changes()
    {
        // Each membership is a window [start, start + count) of one address block; consecutive windows differ.
        Gen<(int Start, int Count)> window = Gen.Select(Gen.Int[1, 60], Gen.Int[MinPods, MaxPods]);
        await Property.ForAllAsync(
            window.Array[3, 5],
            iterations: 4,
            seed: 0x10130101UL,
            async windows =>
            {
                var memberships = new List<IReadOnlyList<IPAddress>>();
                (int Start, int Count) previous = default;
                foreach ((int Start, int Count) w in windows)
                {
                    // A step that changes nothing could not tell a stale answer from a fresh one.
                    if (w != previous)
                    {
                        memberships.Add(Addresses.Range(41, w.Count, w.Start));
                        previous = w;
                    }
                }

                await AssertEachChangeIsSeenByTheNextRefreshAsync(memberships);
            });
    }

    [Theory]
    [InlineData(DnsAddressFamily.IPv4)]
    [InlineData(DnsAddressFamily.Both)]
    public async Task No_dns_tcp_connection_outlives_its_round(DnsAddressFamily family)
    {
        string name = NewName("tcp-held");
        IReadOnlyList<IPAddress> members = Addresses.Range(42, MinPods);
        await dnsmasq.SetHostsAsync(name, members);
        await using HeadlessService service = Service(name, family);

        for (int round = 0; round < 3; round++)
        {
            EndpointSet set = await service.RefreshAsync().AsTask().WaitAsync(Generous);
            Assert.Equal(Keys(members), Keys(set));

            IReadOnlyList<string> held = ProcessTcpConnections.To(Server);
            Assert.True(held.Count == 0, $"After round {round} this process still holds {held.Count} TCP connection(s) to dnsmasq: {string.Join("; ", held)}");
        }
    }
}
