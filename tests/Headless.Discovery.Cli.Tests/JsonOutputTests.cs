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
            """{"time":"2026-01-02T03:04:05.678Z","service":"web.default.svc.cluster.local","version":2,"stale":false,"endpoints":[{"address":"10.0.0.2","port":80,"hostname":null,"healthy":null},{"address":"fd00::3","port":80,"hostname":null,"healthy":null}],"added":["[fd00::3]:80"],"removed":["10.0.0.1:80"],"events":[]}""",
            json);
        using JsonDocument doc = JsonDocument.Parse(json);
        Assert.Equal(DateTimeOffset.Parse("2026-01-02T03:04:05.678Z", System.Globalization.CultureInfo.InvariantCulture), doc.RootElement.GetProperty("time").GetDateTimeOffset());
    }

    [Fact]
    public void WatchLineNamesEachHealthTransitionWithItsReason()
    {
        PodEndpoint[] pods = [.. Enumerable.Range(1, 5).Select(i => new PodEndpoint(IPAddress.Parse($"10.0.0.{i}"), 80))];
        EndpointSet v1 = EndpointSet.Create(
            Service,
            [
                new EndpointStatus(pods[0]),
                new EndpointStatus(pods[1], EndpointHealth.Healthy),
                new EndpointStatus(pods[2], EndpointHealth.Unhealthy, lastError: "HTTP 500"),
                new EndpointStatus(pods[3], EndpointHealth.Healthy, isEjected: true, lastError: "refused"),
                new EndpointStatus(pods[4], EndpointHealth.Healthy),
            ],
            1,
            DateTimeOffset.UnixEpoch,
            TimeSpan.FromSeconds(5));
        EndpointSet v2 = EndpointSet.Create(
            Service,
            [
                new EndpointStatus(pods[0], EndpointHealth.Healthy),
                new EndpointStatus(pods[1], EndpointHealth.Unhealthy, lastError: "timed out after 1000 ms"),
                new EndpointStatus(pods[2], EndpointHealth.Healthy),
                new EndpointStatus(pods[3], EndpointHealth.Healthy),
                new EndpointStatus(pods[4], EndpointHealth.Unhealthy, isEjected: true, lastError: "HTTP 503"),
            ],
            2,
            DateTimeOffset.UnixEpoch,
            TimeSpan.FromSeconds(5));

        WatchLine line = WatchLine.Parse(JsonOutput.WatchLine(DateTimeOffset.UnixEpoch, EndpointSetChange.Compute(v1, v2)));

        Assert.Equal(
            [
                ("10.0.0.1:80", "healthy", null),
                ("10.0.0.2:80", "unhealthy", "timed out after 1000 ms"),
                ("10.0.0.3:80", "healthy", null),
                ("10.0.0.4:80", "returned", null),
                ("10.0.0.5:80", "unhealthy", "HTTP 503"),
                ("10.0.0.5:80", "ejected", "HTTP 503"),
            ],
            line.Events);
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
