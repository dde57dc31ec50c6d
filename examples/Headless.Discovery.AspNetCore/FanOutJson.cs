using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Headless.Discovery.Examples.AspNetCore;

/// <summary>
/// The <c>/fanout</c> document: <c>{"time":…,"service":…,"version":…,"mode":"All","succeeded":n,"failed":n,"goalMet":true,
/// "elapsedMs":…,"results":[{"address":…,"port":…,"hostname":…,"status":"Succeeded","statusCode":200,"latencyMs":…,"error":null}]}</c>.
/// </summary>
internal static class FanOutJson
{
    public static string Write(DateTimeOffset time, FanOutResult<int> result)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("time", time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
            writer.WriteString("service", result.Snapshot.Service.Value);
            writer.WriteNumber("version", result.Snapshot.Version);
            writer.WriteString("mode", result.Mode.ToString());
            writer.WriteNumber("succeeded", result.Succeeded);
            writer.WriteNumber("failed", result.Failed);
            writer.WriteBoolean("goalMet", result.GoalMet);
            writer.WriteNumber("elapsedMs", Math.Round(result.Elapsed.TotalMilliseconds, 1));
            writer.WriteStartArray("results");
            foreach (FanOutPodResult<int> pod in result.Results)
            {
                writer.WriteStartObject();
                writer.WriteString("address", pod.Endpoint.Address.ToString());
                writer.WriteNumber("port", pod.Endpoint.Port);
                writer.WriteString("hostname", pod.Endpoint.Hostname);
                writer.WriteString("status", pod.Status.ToString());
                if (pod.IsSuccess)
                {
                    writer.WriteNumber("statusCode", pod.Value);
                }
                else
                {
                    writer.WriteNull("statusCode");
                }

                writer.WriteNumber("latencyMs", Math.Round(pod.Latency.TotalMilliseconds, 1));
                writer.WriteString("error", pod.Exception?.Message);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
