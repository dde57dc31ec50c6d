using System.Net;
using DnsClient;

namespace Headless.Discovery.Testing.Tests;

internal static class DnsTestClient
{

    public static LookupClient Create(EmbeddedDnsServer server, bool tcpFallback = true, TimeSpan? timeout = null, bool useTcpOnly = false) =>
        new(new LookupClientOptions(new NameServer(server.EndPoint))
        {
            UseCache = false,
            UseTcpFallback = tcpFallback,
            UseTcpOnly = useTcpOnly,
            Retries = 0,
            Timeout = timeout ?? TimeSpan.FromSeconds(5),
            ThrowDnsErrors = false,
            ContinueOnDnsError = false,
            ContinueOnEmptyResponse = false,
        });

    public static Task<IDnsQueryResponse> QueryAsync(this LookupClient client, string name, QueryType type) =>
        client.QueryAsync(name, type, QueryClass.IN, CancellationToken.None);

    public static IPAddress[] Addresses(this IDnsQueryResponse response) =>
        [.. response.Answers.ARecords().Select(r => r.Address).Concat(response.Answers.AaaaRecords().Select(r => r.Address))];
}
