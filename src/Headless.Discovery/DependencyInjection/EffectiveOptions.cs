using System.Globalization;

namespace Headless.Discovery;

/// <summary>
/// The options a registered service runs with, in one line for its startup log: what configuration and code together
/// decided (code runs after the configuration section, so where both set an option, this shows which won).
/// </summary>
internal static class EffectiveOptions
{
    /// <summary>
    /// <c>web.shop.svc.cluster.local port 80, DNS 127.0.0.1:5354 (IPv4, A/AAAA), refresh 2s to 30s, probe http:/healthz
    /// every 10s, passive ejection on, panic below 50 %, selector LeastRequest:3, startup waits for 0 pod(s)</c>.
    /// </summary>
    public static string Describe(ServiceName name, HeadlessServiceOptions options, HeadlessServiceRegistrationOptions registration)
    {
        ActiveHealthOptions active = options.ActiveHealth;
        string dns = options.DnsServers.Count == 0 ? "the system's DNS servers" : "DNS " + string.Join(", ", options.DnsServers);
        string probe = !active.Enabled
            ? "no active probe"
            : $"probe {(active.CustomProbe is { } custom ? custom.GetType().Name : active.Probe)} every {DurationParser.Format(active.Interval)}";
        return string.Create(
            CultureInfo.InvariantCulture,
            $"{name} port {options.Port}, {dns} ({options.AddressFamily}, {(options.UseSrv ? "SRV" : "A/AAAA")}), "
            + $"refresh {DurationParser.Format(options.MinRefreshInterval)} to {DurationParser.Format(options.MaxRefreshInterval)}, "
            + $"{probe}, passive ejection {(options.PassiveHealth.Enabled ? "on" : "off")}, panic below {options.PanicThreshold:0.##} %, "
            + $"selector {registration.Selector}{(registration.SlowStart is { } slow ? $" (slow start {DurationParser.Format(slow.Window)})" : string.Empty)}, "
            + $"startup waits for {registration.MinEndpoints} pod(s)");
    }
}
