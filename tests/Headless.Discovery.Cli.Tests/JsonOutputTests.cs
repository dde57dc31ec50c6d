using System.Net;
using System.Text.Json;

namespace Headless.Discovery.Cli.Tests;

public class JsonOutputTests
{
    private static readonly ServiceName Service = ServiceName.Parse("web.default.svc.cluster.local");

    [Fact]
    public void ResolveDocumentHasTheExactShape()
    {
        ResolutionResult result = ResolutionResult.Success(
            [new PodEndpoint(IPAddress.Parse("10.1.2.4"), 80), new PodEndpoint(IPAddress.Parse("10.1.2.3"), 81), new PodEndpoint(IPAddress.Parse("10.1.2.3"), 80, "web-0.web.default.svc.cluster.local.")],
            TimeSpan.FromSeconds(5));

        string json = JsonOutput.Resolve(Service, result.Ttl, result.Endpoints);

        Assert.Equal(
            """{"service":"web.default.svc.cluster.local","ttl":5,"endpoints":[{"address":"10.1.2.3","port":80,"hostname":"web-0.web.default.svc.cluster.local"},{"address":"10.1.2.3","port":81,"hostname":null},{"address":"10.1.2.4","port":80,"hostname":null}]}""",
            json);
    }

    [Fact]
    public void WatchLineHasTheExactShape()
    {
        DateTimeOffset at = new(2026, 1, 2, 3, 4, 5, 678, TimeSpan.Zero);
        EndpointSet v1 = EndpointSet.Create(Service, [new PodEndpoint(IPAddress.Parse("10.0.0.1"), 80), new PodEndpoint(IPAddress.Parse("10.0.0.2"), 80)], 1, at, TimeSpan.FromSeconds(5));
        EndpointSet v2 = EndpointSet.Create(Service, [new PodEndpoint(IPAddress.Parse("10.0.0.2"), 80), new PodEndpoint(IPAddress.Parse("fd00::3"), 80)], 2, at, TimeSpan.FromSeconds(5));

        string json = JsonOutput.WatchLine(at, EndpointSetChange.Compute(v1, v2));

        Assert.Equal(
            """{"time":"2026-01-02T03:04:05.678Z","service":"web.default.svc.cluster.local","version":2,"stale":false,"endpoints":[{"address":"10.0.0.2","port":80,"hostname":null,"healthy":null},{"address":"fd00::3","port":80,"hostname":null,"healthy":null}],"added":["[fd00::3]:80"],"removed":["10.0.0.1:80"]}""",
            json);
        using JsonDocument doc = JsonDocument.Parse(json);
        Assert.Equal(DateTimeOffset.Parse("2026-01-02T03:04:05.678Z", System.Globalization.CultureInfo.InvariantCulture), doc.RootElement.GetProperty("time").GetDateTimeOffset());
    }

    [Fact]
    public void FirstWatchLineCountsEverythingAsAdded()
    {
        EndpointSet v1 = EndpointSet.Create(Service, [new PodEndpoint(IPAddress.Parse("10.0.0.1"), 0)], 1, DateTimeOffset.UnixEpoch, TimeSpan.Zero);

        using JsonDocument doc = JsonDocument.Parse(JsonOutput.WatchLine(DateTimeOffset.UnixEpoch, EndpointSetChange.Compute(null, v1)));

        Assert.Equal(["10.0.0.1:0"], doc.RootElement.GetProperty("added").EnumerateArray().Select(e => e.GetString()));
        Assert.Empty(doc.RootElement.GetProperty("removed").EnumerateArray());
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("endpoints")[0].GetProperty("healthy").ValueKind);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 1)]
    [InlineData(5000, 5)]
    [InlineData(1500, 2)]
    [InlineData(30_000, 30)]
    public void TtlIsWholeSeconds(int ms, long seconds) => Assert.Equal(seconds, JsonOutput.TtlSeconds(TimeSpan.FromMilliseconds(ms)));
}
