using Headless.Discovery.TestSupport;

namespace Headless.Discovery.Grpc.Tests;

/// <summary>README's gRPC quick start compiles as pasted into a web project (whose Greeter comes from the example's proto).</summary>
public sealed class ReadmeQuickStartTests
{
    [Fact]
    public void The_grpc_quick_start_compiles_as_pasted() =>
        ReadmeSnippet.AssertCompiles("## gRPC", ReadmeSnippet.WebUsings + "\nglobal using Headless.Discovery.Examples.Grpc;");
}
