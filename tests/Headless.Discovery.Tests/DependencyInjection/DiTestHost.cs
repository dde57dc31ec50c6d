using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Headless.Discovery.Tests.DependencyInjection;

/// <summary>Builds generic hosts over in-memory configuration for the DI tests.</summary>
internal static class DiTestHost
{

    public const string Section = "HeadlessDiscovery:Services:backend:";

    public static IHost Build(IDictionary<string, string?> configuration, Action<IServiceCollection> configureServices)
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(configuration);
        configureServices(builder.Services);
        return builder.Build();
    }

    /// <summary>A namespace-less environment: short names cannot be qualified.</summary>
    public static KubernetesDnsEnvironment NoNamespace() =>
        new(resolvConfPath: "/nonexistent/resolv.conf", namespaceFilePath: "/nonexistent/namespace", environmentVariableReader: _ => null);
}
