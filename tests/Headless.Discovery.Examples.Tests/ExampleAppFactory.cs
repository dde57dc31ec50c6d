using System.Globalization;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Headless.Discovery.Examples.Tests;

/// <summary>The example app in-process, configured like the command line would: a DNS server, a name, a port.</summary>
public sealed class ExampleAppFactory(IReadOnlyDictionary<string, string?> settings) : WebApplicationFactory<Program>
{
    public static Dictionary<string, string?> Backend(string name, string nameServer, int port) => new()
    {
        ["HeadlessDiscovery:Services:backend:Name"] = name,
        ["HeadlessDiscovery:Services:backend:Port"] = port.ToString(CultureInfo.InvariantCulture),
        ["HeadlessDiscovery:Services:backend:DnsServers:0"] = nameServer,
        ["HeadlessDiscovery:Services:backend:MinRefreshInterval"] = "00:00:00.200",
        ["HeadlessDiscovery:Services:backend:MaxRefreshInterval"] = "00:00:00.500",
        ["HeadlessDiscovery:Services:backend:FailureBackoffBase"] = "00:00:00.200",
        ["HeadlessDiscovery:Services:backend:FailureBackoffMax"] = "00:00:00.500",
        ["HeadlessDiscovery:Services:backend:DnsAttemptTimeout"] = "00:00:00.500",
    };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach ((string key, string? value) in settings)
        {
            builder.UseSetting(key, value);
        }
    }
}
