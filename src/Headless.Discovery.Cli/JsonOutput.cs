using System.Buffers;
using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Headless.Discovery.Cli;

/// <summary>
/// Writes the CLI's JSON documents with <see cref="Utf8JsonWriter"/>, so property names, their order and the number
/// formats are exactly the documented contract. Each document is one line.
/// </summary>
internal static class JsonOutput
{
    private static readonly JsonWriterOptions WriterOptions = new() { Indented = false, SkipValidation = false };

    /// <summary>
    /// The <c>resolve --json</c> document:
    /// <c>{"service":"…","ttl":5,"endpoints":[{"address":"10.1.2.3","port":80,"hostname":null}]}</c>.
    /// </summary>
    /// <param name="service">The fully qualified service name.</param>
    /// <param name="ttl">The answer's smallest TTL; written as whole seconds.</param>
    /// <param name="endpoints">The endpoints, already sorted by address then port.</param>
    /// <returns>The document, without a trailing newline.</returns>
    public static string Resolve(ServiceName service, TimeSpan ttl, ImmutableArray<PodEndpoint> endpoints)
    {
        var buffer = new ArrayBufferWriter<byte>(256 + (endpoints.Length * 56));
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("service", service.Value);
            writer.WriteNumber("ttl", TtlSeconds(ttl));
            writer.WriteStartArray("endpoints");
            foreach (PodEndpoint endpoint in endpoints)
            {
                writer.WriteStartObject();
                WriteEndpointFields(writer, endpoint);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>
    /// One <c>watch --json</c> line:
    /// <c>{"time":"…","service":"…","version":1,"stale":false,"endpoints":[{"address":"…","port":80,"hostname":null,"healthy":null}],"added":["ip:port"],"removed":[],"events":[{"endpoint":"ip:port","kind":"unhealthy","reason":"…"}]}</c>.
    /// <c>healthy</c> is <see langword="true"/> or <see langword="false"/> once the pod has been probed (<c>--probe</c>),
    /// <c>null</c> before that and without probing. <c>events</c> are the health transitions of pods present before and
    /// after (see <see cref="HealthEventsOf"/>).
    /// </summary>
    /// <param name="time">When the change was observed.</param>
    /// <param name="change">The change.</param>
    /// <returns>The line, without a trailing newline.</returns>
    public static string WatchLine(DateTimeOffset time, EndpointSetChange change)
    {
        EndpointSet current = change.Current;
        var buffer = new ArrayBufferWriter<byte>(256 + (current.Endpoints.Length * 72) + ((change.Added.Length + change.Removed.Length) * 24));
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("time", time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
            writer.WriteString("service", current.Service.Value);
            writer.WriteNumber("version", current.Version);
            writer.WriteBoolean("stale", current.StaleSince is not null);
            writer.WriteStartArray("endpoints");
            for (int i = 0; i < current.Endpoints.Length; i++)
            {
                writer.WriteStartObject();
                WriteEndpointFields(writer, current.Endpoints[i]);
                switch (current.Statuses[i].Health)
                {
                    case EndpointHealth.Healthy:
                        writer.WriteBoolean("healthy", true);
                        break;
                    case EndpointHealth.Unhealthy:
                        writer.WriteBoolean("healthy", false);
                        break;
                    default:
                        // Not probed (yet): null.
                        writer.WriteNull("healthy");
                        break;
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            WriteKeys(writer, "added", change.Added);
            WriteKeys(writer, "removed", change.Removed);
            WriteEvents(writer, change);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>
    /// The <c>probe --json</c> document:
    /// <c>{"service":"…","endpoints":[{"address":"10.1.2.3","port":80,"healthy":true,"latencyMs":1.234,"error":null}]}</c>.
    /// </summary>
    /// <param name="service">The fully qualified service name.</param>
    /// <param name="results">One probe result per endpoint, sorted by endpoint.</param>
    /// <returns>The document, without a trailing newline.</returns>
    public static string Probe(ServiceName service, IReadOnlyList<(PodEndpoint Endpoint, ProbeResult Result)> results)
    {
        var buffer = new ArrayBufferWriter<byte>(128 + (results.Count * 96));
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("service", service.Value);
            writer.WriteStartArray("endpoints");
            foreach ((PodEndpoint endpoint, ProbeResult result) in results)
            {
                writer.WriteStartObject();
                writer.WriteString("address", endpoint.Address.ToString());
                writer.WriteNumber("port", endpoint.Port);
                writer.WriteBoolean("healthy", result.Succeeded);
                writer.WriteNumber("latencyMs", Math.Round(result.Latency.TotalMilliseconds, 3));
                if (result.Error is null)
                {
                    writer.WriteNull("error");
                }
                else
                {
                    writer.WriteString("error", result.Error);
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Whole seconds, rounded up so a sub-second TTL does not read as 0 unless it is 0.</summary>
    internal static long TtlSeconds(TimeSpan ttl) =>
        ttl <= TimeSpan.Zero ? 0 : (long)Math.Ceiling(ttl.TotalSeconds - 1e-9);

    private static void WriteEndpointFields(Utf8JsonWriter writer, PodEndpoint endpoint)
    {
        writer.WriteString("address", endpoint.Address.ToString());
        writer.WriteNumber("port", endpoint.Port);
        if (endpoint.Hostname is null)
        {
            writer.WriteNull("hostname");
        }
        else
        {
            writer.WriteString("hostname", endpoint.Hostname);
        }
    }

    private static void WriteKeys(Utf8JsonWriter writer, string name, ImmutableArray<PodEndpoint> endpoints)
    {
        writer.WriteStartArray(name);
        foreach (PodEndpoint endpoint in endpoints)
        {
            writer.WriteStringValue(endpoint.Key);
        }

        writer.WriteEndArray();
    }

    /// <summary>
    /// The health transitions a change carries, one per pod and kind, in pod order: <c>healthy</c> and <c>unhealthy</c>
    /// (active probes; with the last error as the reason), <c>ejected</c> (passive health, with the last error) and
    /// <c>returned</c> — the events the library logs as 1200-1203 and counts in <c>headless_discovery.health.events</c>.
    /// </summary>
    internal static IEnumerable<(PodEndpoint Endpoint, string Kind, string? Reason)> HealthEventsOf(EndpointSetChange change)
    {
        foreach (EndpointStatus status in change.HealthChanged)
        {
            EndpointStatus? before = change.Previous?.GetStatus(status.Endpoint);
            if ((before?.Health ?? EndpointHealth.Unknown) != status.Health && status.Health != EndpointHealth.Unknown)
            {
                bool healthy = status.Health == EndpointHealth.Healthy;
                yield return (status.Endpoint, healthy ? "healthy" : "unhealthy", healthy ? null : status.LastError);
            }

            if ((before?.IsEjected ?? false) != status.IsEjected)
            {
                yield return (status.Endpoint, status.IsEjected ? "ejected" : "returned", status.IsEjected ? status.LastError : null);
            }
        }
    }

    private static void WriteEvents(Utf8JsonWriter writer, EndpointSetChange change)
    {
        writer.WriteStartArray("events");
        foreach ((PodEndpoint endpoint, string kind, string? reason) in HealthEventsOf(change))
        {
            writer.WriteStartObject();
            writer.WriteString("endpoint", endpoint.Key);
            writer.WriteString("kind", kind);
            if (reason is null)
            {
                writer.WriteNull("reason");
            }
            else
            {
                writer.WriteString("reason", reason);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }
}
