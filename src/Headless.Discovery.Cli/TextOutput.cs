using System.Globalization;
using System.Text;

namespace Headless.Discovery.Cli;

/// <summary>The human-readable output of <c>resolve</c>, <c>watch</c> and <c>demo</c> (no contract: scripts use <c>--json</c>).</summary>
internal static class TextOutput
{
    public static IEnumerable<string> Resolve(ServiceName service, ResolutionResult result)
    {
        // A records carry no port: without --port every pod is port 0, which is no port to connect to. Say so once.
        bool noPort = result.Endpoints.Length > 0 && result.Endpoints.All(e => e.Port == 0);
        yield return string.Create(
            CultureInfo.InvariantCulture,
            $"{service}: {Pods(result.Endpoints.Length)}, ttl {JsonOutput.TtlSeconds(result.Ttl)}s{(noPort ? " (A records carry no port: give --port, or --use-srv for the named port's)" : string.Empty)}");
        foreach (PodEndpoint endpoint in result.Endpoints)
        {
            yield return "  " + (noPort ? Describe(endpoint).Replace(endpoint.Key, endpoint.Address.ToString(), StringComparison.Ordinal) : Describe(endpoint));
        }
    }

    /// <summary>One change as a few lines: a header (time, version, count, +/- counts, stale marker), then one line per added or removed pod.</summary>
    public static IEnumerable<string> Change(DateTimeOffset localTime, EndpointSetChange change, bool includeService, int maxListed = 50)
    {
        yield return ChangeHeader(localTime, change, includeService);

        foreach (string line in HealthChanges(change))
        {
            yield return line;
        }

        int listed = 0;
        foreach ((PodEndpoint endpoint, char sign) in change.Added.Select(e => (e, '+')).Concat(change.Removed.Select(e => (e, '-'))))
        {
            if (listed++ == maxListed)
            {
                yield return string.Create(CultureInfo.InvariantCulture, $"    … and {change.Added.Length + change.Removed.Length - maxListed} more");
                yield break;
            }

            yield return $"    {sign} " + Describe(endpoint);
        }
    }

    /// <summary>The first line of a change: time, version, service, count, +/- counts, health and staleness.</summary>
    private static string ChangeHeader(DateTimeOffset localTime, EndpointSetChange change, bool includeService)
    {
        EndpointSet current = change.Current;
        var header = new StringBuilder();
        header.Append(CultureInfo.InvariantCulture, $"[{localTime:HH:mm:ss.fff}] v{current.Version}");
        if (includeService)
        {
            header.Append(CultureInfo.InvariantCulture, $" {current.Service}:");
        }

        header.Append(CultureInfo.InvariantCulture, $" {Pods(current.Endpoints.Length)}");
        if (change.Kind.HasFlag(EndpointSetChangeKind.Membership))
        {
            header.Append(CultureInfo.InvariantCulture, $" (+{change.Added.Length} -{change.Removed.Length})");
        }

        if (current.HealthyCount + current.UnhealthyCount + current.EjectedCount > 0)
        {
            header.Append(CultureInfo.InvariantCulture, $", {current.HealthyCount} healthy, {current.UnhealthyCount} unhealthy");
            if (current.IsPanic)
            {
                header.Append(", PANIC: too few available, using all");
            }
        }

        if (current.StaleSince is not null)
        {
            header.Append(' ').Append(Stale(current));
        }
        else if (change.Kind.HasFlag(EndpointSetChangeKind.Staleness))
        {
            header.Append(" fresh again");
        }
        else if (current.Endpoints.Length == 0)
        {
            header.Append(" (").Append(Empty(current)).Append(')');
        }

        return header.ToString();
    }

    /// <summary>The <c>probe</c> result: a header, then one line per pod with its verdict, latency and error.</summary>
    public static IEnumerable<string> Probe(ServiceName service, string probe, IReadOnlyList<(PodEndpoint Endpoint, ProbeResult Result)> results)
    {
        int healthy = results.Count(r => r.Result.Succeeded);
        yield return string.Create(CultureInfo.InvariantCulture, $"{service}: {Pods(results.Count)}, {healthy} healthy ({probe})");
        foreach ((PodEndpoint endpoint, ProbeResult result) in results)
        {
            string verdict = result.Succeeded ? "healthy  " : "UNHEALTHY";
            string error = result.Error is null ? string.Empty : "  " + result.Error;
            yield return $"  {endpoint.Key,-22} {verdict} {ProbeCommand.Ms(result.Latency),10}{error}";
        }
    }

    /// <summary>One line per health transition in <paramref name="change"/>.</summary>
    public static IEnumerable<string> HealthChanges(EndpointSetChange change)
    {
        foreach (EndpointStatus status in change.HealthChanged)
        {
            string what = status.IsEjected ? "ejected" : Health(status.Health);
            string why = status.Health == EndpointHealth.Unhealthy && status.LastError is { } error ? $" ({error})" : string.Empty;
            yield return $"    ~ {Describe(status.Endpoint)} {what}{why}";
        }
    }

    /// <summary>The health as a word: unknown, healthy, unhealthy.</summary>
    public static string Health(EndpointHealth health) => health switch
    {
        EndpointHealth.Healthy => "healthy",
        EndpointHealth.Unhealthy => "unhealthy",
        _ => "unknown",
    };

    /// <summary>
    /// The marker of a stale set and why it is stale, in the library's words (<see cref="EndpointSet.LastError"/>); our
    /// own only when the library gave no error.
    /// </summary>
    public static string Stale(EndpointSet set) =>
        (set.Endpoints.Length > 0 ? "STALE (last known pods): " : "STALE: ") + (set.LastError is { } error ? ErrorText.Explain(error) : "DNS is failing");

    /// <summary>Why a fresh set is empty, in the library's words; our own only when the library gave no error.</summary>
    public static string Empty(EndpointSet set) =>
        set.LastError is { } error ? ErrorText.Explain(error) : "no ready pods: the name does not exist or has no records";

    public static string Pods(int count) =>
        count == 1 ? "1 pod" : string.Create(CultureInfo.InvariantCulture, $"{count} pods");

    public static string Describe(PodEndpoint endpoint) =>
        endpoint.Hostname is null ? endpoint.Key : $"{endpoint.Key}  {endpoint.Hostname}";

    public static string RecordTypes(HeadlessServiceOptions options) =>
        options.UseSrv ? "SRV" : options.AddressFamily switch
        {
            DnsAddressFamily.IPv6 => "AAAA",
            DnsAddressFamily.Both => "A/AAAA",
            DnsAddressFamily.IPv4Preferred => "A, else AAAA",
            DnsAddressFamily.IPv6Preferred => "AAAA, else A",
            _ => "A",
        };
}
