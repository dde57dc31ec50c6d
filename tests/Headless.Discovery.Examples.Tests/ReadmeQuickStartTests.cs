using Headless.Discovery.TestSupport;

namespace Headless.Discovery.Examples.Tests;

/// <summary>README's quick start compiles as pasted into a fresh console project (<c>dotnet new console</c>).</summary>
public sealed class ReadmeQuickStartTests
{
    [Fact]
    public void The_quick_start_with_its_local_variant_compiles_as_pasted() =>
        ReadmeSnippet.AssertCompiles("## Quick start", ReadmeSnippet.ConsoleUsings);
}
