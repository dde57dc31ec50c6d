using System.Buffers;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Headless.Discovery.Cli;

/// <summary>
/// The <c>fanout --json</c> document and its per-pod rule (a 2xx answer is ok, anything else fails with its status):
/// <c>{"service":"&lt;fqdn&gt;","mode":"all","succeeded":n,"failed":n,"results":[{"address":"…","port":n,
/// "status":"ok|failed|timeout|skipped|cancelled","httpStatus":n|null,"latencyMs":n,"error":null|"…"}]}</c>.
/// Shared with the ASP.NET Core example's <c>/fanout</c> (linked there), so both print the same schema.
/// </summary>
internal static class FanOutJson
{
    public static async ValueTask<int> GetAsync(HttpClient client, PodEndpoint endpoint, string path, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"http://{endpoint.Key}{path}"));
        using HttpResponseMessage response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        int status = (int)response.StatusCode;
        if (status is < 200 or > 299)
        {
            throw new HttpRequestException(
                string.Create(CultureInfo.InvariantCulture, $"HTTP {status} {response.ReasonPhrase}").TrimEnd(),
                null,
                response.StatusCode);
        }

        return status;
    }

    public static string StatusText(FanOutPodStatus status) => status switch
    {
        FanOutPodStatus.Succeeded => "ok",
        FanOutPodStatus.Failed => "failed",
        FanOutPodStatus.TimedOut => "timeout",
        FanOutPodStatus.Skipped => "skipped",
        _ => "cancelled",
    };

    public static int? HttpStatusOf(FanOutPodResult<int> result) =>
        result.Succeeded ? result.Value : result.Exception is HttpRequestException { StatusCode: HttpStatusCode code } ? (int)code : null;

    /// <summary>
    /// Why a fan-out decided its goal without calling any pod (a quorum larger than the service), or
    /// <see langword="null"/>. The CLI targets every pod (<see cref="FanOutOptions.IncludeUnhealthy"/>), so every pod
    /// skipped with no deadline passed means the goal was out of reach from the start.
    /// </summary>
    public static string? NotCalledReason(FanOutResult<int> result) =>
        !result.GoalMet && !result.DeadlineExceeded && result.Results.Length > 0 && result.Results.All(r => r.Status == FanOutPodStatus.Skipped)
            ? string.Create(CultureInfo.InvariantCulture, $"not called: {result.Mode} cannot be met by the service's {result.Results.Length} pod(s)")
            : null;

    /// <summary>A pod's error text; <paramref name="notCalled"/> is <see cref="NotCalledReason"/> of its fan-out.</summary>
    public static string? ErrorOf(string? notCalled, FanOutPodResult<int> result) => result.Status switch
    {
        FanOutPodStatus.Skipped => notCalled,
        FanOutPodStatus.Succeeded => null,
        FanOutPodStatus.TimedOut => result.Exception is null ? "timed out" : "timed out: " + ErrorText.Explain(result.Exception),
        FanOutPodStatus.Cancelled => "cancelled: the mode's goal was decided without this pod",
        _ => result.Exception is null ? "failed" : ErrorText.Explain(result.Exception),
    };

    public static string Write(ServiceName service, FanOutResult<int> result)
    {
        string? notCalled = NotCalledReason(result);
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("service", service.Value);
            writer.WriteString("mode", result.Mode.ToString());
            writer.WriteNumber("succeeded", result.Succeeded);
            writer.WriteNumber("failed", result.Failed);
            writer.WriteStartArray("results");
            foreach (FanOutPodResult<int> pod in result.Results)
            {
                writer.WriteStartObject();
                writer.WriteString("address", pod.Endpoint.Address.ToString());
                writer.WriteNumber("port", pod.Endpoint.Port);
                writer.WriteString("status", StatusText(pod.Status));
                if (HttpStatusOf(pod) is { } code)
                {
                    writer.WriteNumber("httpStatus", code);
                }
                else
                {
                    writer.WriteNull("httpStatus");
                }

                writer.WriteNumber("latencyMs", Math.Round(pod.Latency.TotalMilliseconds, 3));
                if (ErrorOf(notCalled, pod) is { } error)
                {
                    writer.WriteString("error", error);
                }
                else
                {
                    writer.WriteNull("error");
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
