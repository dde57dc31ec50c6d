using Headless.Discovery.TestSupport;

namespace Headless.Discovery.Yarp.Tests;

/// <summary>README's YARP quick start compiles as pasted into a web project.</summary>
public sealed class ReadmeQuickStartTests
{
    [Fact]
    public void The_yarp_quick_start_compiles_as_pasted() =>
        ReadmeSnippet.AssertCompiles("## YARP", ReadmeSnippet.WebUsings);
}
