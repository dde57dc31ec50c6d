using System.Net;
using DnsClient;
using DnsClient.Protocol;

namespace Headless.Discovery.Testing.Tests;

public sealed class EmbeddedDnsServerTests
{
    private const string Service = "web.default.svc.cluster.local";

    [Fact]
    public async Task Serves_A_records_with_ttl_case_insensitively()
    {
        await using var server = await EmbeddedDnsServer.StartAsync();
        server.SetAddresses(Service + ".", [IPAddress.Parse("10.0.0.1"), IPAddress.Parse("10.0.0.2")], TimeSpan.FromSeconds(7));

        var response = await DnsTestClient.Create(server).QueryAsync("WEB.Default.svc.cluster.local", QueryType.A);

        Assert.Equal(DnsHeaderResponseCode.NoError, response.Header.ResponseCode);
        Assert.True(response.Header.HasAuthorityAnswer);
        Assert.Equal([IPAddress.Parse("10.0.0.1"), IPAddress.Parse("10.0.0.2")], response.Addresses());
        Assert.All(response.Answers, r => Assert.Equal(7, r.InitialTimeToLive));
        Assert.Equal(1, server.GetQueryCount(DnsRecordType.A));
        Assert.Equal(1, server.UdpQueries);
        Assert.Equal($"127.0.0.1:{server.EndPoint.Port}", server.NameServer);
    }
}
