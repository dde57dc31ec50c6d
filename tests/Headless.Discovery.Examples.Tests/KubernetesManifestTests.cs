using Headless.Discovery.TestSupport;
using YamlDotNet.RepresentationModel;

namespace Headless.Discovery.Examples.Tests;

/// <summary>
/// Every Kubernetes manifest under <c>examples/</c> is valid YAML, and each set of them shows what the library needs of
/// a cluster: a headless Service (<c>clusterIP: None</c>) with named ports (SRV records), and <c>POD_NAMESPACE</c> from
/// the downward API in every client (Deployment) container.
/// </summary>
public sealed class KubernetesManifestTests
{
    public static TheoryData<string> ManifestDirectories() => [.. Directories()];

    [Fact]
    public void The_examples_have_manifests() =>
        Assert.Contains(Path.Combine("examples", "Headless.Discovery.Grpc", "k8s"), Directories());

    private static IEnumerable<string> Directories() =>
        Directory.GetFiles(Path.Combine(RepositoryPaths.Root, "examples"), "*.yaml", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(f => Path.GetRelativePath(RepositoryPaths.Root, Path.GetDirectoryName(f)!))
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal);

    [Theory]
    [MemberData(nameof(ManifestDirectories))]
    public void Manifests_are_valid_yaml_with_a_headless_service_named_ports_and_the_namespace_from_the_downward_API(string directory)
    {
        List<YamlMappingNode> documents = [];
        foreach (string file in Directory.GetFiles(Path.Combine(RepositoryPaths.Root, directory), "*.yaml"))
        {
            var stream = new YamlStream();
            using (var reader = new StreamReader(file))
            {
                stream.Load(reader);
            }

            documents.AddRange(stream.Documents.Select(d => Assert.IsType<YamlMappingNode>(d.RootNode)));
        }

        // The discovered service is headless; an app's own front Service (a plain ClusterIP) may sit beside it, and a
        // client's manifests may use the headless Service another directory defines (the YARP proxy: examples/k8s).
        YamlMappingNode[] services = [.. documents.Where(d => Scalar(d, "kind") == "Service")];
        YamlMappingNode[] headless = [.. services.Where(d => Scalar(Map(d, "spec"), "clusterIP") == "None")];
        Assert.True(services.Length == 0 || headless.Length > 0, $"{directory} defines Services but none is headless (clusterIP: None)");
        Assert.All(headless, service =>
        {
            IEnumerable<YamlNode> ports = Seq(Map(service, "spec"), "ports");
            Assert.NotEmpty(ports);
            Assert.All(ports, port => Assert.False(string.IsNullOrEmpty(Scalar((YamlMappingNode)port, "name")), "every port is named (SRV)"));
        });

        // The clients (Deployments) name services in their own namespace: POD_NAMESPACE comes from the downward API.
        YamlMappingNode[] clients = [.. documents
            .Where(d => Scalar(d, "kind") == "Deployment")
            .SelectMany(d => Seq(Map(Map(Map(d, "spec"), "template"), "spec"), "containers").Cast<YamlMappingNode>())];
        Assert.NotEmpty(clients);
        Assert.All(clients, client =>
        {
            YamlMappingNode pod = Assert.Single(Seq(client, "env").Cast<YamlMappingNode>(), e => Scalar(e, "name") == "POD_NAMESPACE");
            Assert.Equal("metadata.namespace", Scalar(Map(Map(pod, "valueFrom"), "fieldRef"), "fieldPath"));
        });
    }

    private static string? Scalar(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out YamlNode? value) ? (value as YamlScalarNode)?.Value : null;

    private static YamlMappingNode Map(YamlMappingNode node, string key) => Assert.IsType<YamlMappingNode>(node.Children[new YamlScalarNode(key)]);

    private static IEnumerable<YamlNode> Seq(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out YamlNode? value) ? ((YamlSequenceNode)value).Children : [];
}
