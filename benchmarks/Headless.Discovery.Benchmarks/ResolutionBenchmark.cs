using BenchmarkDotNet.Attributes;
using DnsClient;
using Headless.Discovery.Testing;

namespace Headless.Discovery.Benchmarks;

/// <summary>
/// One resolution round against the embedded DNS server on loopback: the raw DnsClient query (cache off, the same
/// name, the same server, the same transport rules) is the floor; ours is one <see cref="DnsEndpointResolver.ResolveAsync"/>
/// including Polly, telemetry, answer hygiene and parsing into sorted <see cref="PodEndpoint"/>s.
/// Answers above ~4 KB (1000 records) do not fit DnsClient's EDNS buffer, come back truncated and are retried over TCP.
/// </summary>
[MemoryDiagnoser]
public class ResolutionBenchmark
{
    private EmbeddedDnsServer _server = null!;
    private LookupClient _client = null!;
    private DnsEndpointResolver _resolver = null!;

    [Params(3, 100, 1000)]
    public int Records { get; set; }

    [GlobalSetup]
    public async Task Setup()
    {
        _server = await EmbeddedDnsServer.StartAsync();
        _server.SetAddresses(Fixtures.ServiceHost, Fixtures.Addresses(Records));

        _client = new LookupClient(new LookupClientOptions(new NameServer(_server.EndPoint))
        {
            UseCache = false,
            Retries = 0,
            UseTcpFallback = true,
            ThrowDnsErrors = false,
            Timeout = TimeSpan.FromSeconds(5),
            EnableAuditTrail = false,
            AutoResolveNameServers = false,
        });

        var options = new HeadlessServiceOptions { Port = Fixtures.Port, DnsAttemptTimeout = TimeSpan.FromSeconds(5) };
        options.DnsServers.Add(_server.NameServer);
        _resolver = new DnsEndpointResolver(options);

        // Both must see every record, or the comparison is not like for like.
        IDnsQueryResponse raw = await _client.QueryAsync(Fixtures.ServiceHost, QueryType.A);
        ResolutionResult ours = await _resolver.ResolveAsync(Fixtures.Service);
        if (raw.Answers.Count != Records || ours.Outcome != ResolutionOutcome.Success || ours.Endpoints.Length != Records)
        {
            throw new InvalidOperationException($"Expected {Records} records; DnsClient got {raw.Answers.Count}, the resolver {ours}.");
        }
    }

    [GlobalCleanup]
    public async Task Cleanup() => await _server.DisposeAsync();

    [Benchmark(Baseline = true, Description = "DnsClient LookupClient.QueryAsync (cache off)")]
    public async Task<int> RawDnsClient()
    {
        IDnsQueryResponse response = await _client.QueryAsync(Fixtures.ServiceHost, QueryType.A);
        return response.Answers.Count;
    }

    [Benchmark(Description = "DnsEndpointResolver.ResolveAsync -> PodEndpoints")]
    public async Task<int> Resolver()
    {
        ResolutionResult result = await _resolver.ResolveAsync(Fixtures.Service);
        return result.Endpoints.Length;
    }
}
