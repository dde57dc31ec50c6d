using Headless.Discovery.TestSupport;

namespace Headless.Discovery.Redis.Tests;

/// <summary>README's Redis quick start compiles as pasted into a console project.</summary>
public sealed class ReadmeQuickStartTests
{
    [Fact]
    public void The_redis_quick_start_compiles_as_pasted() =>
        ReadmeSnippet.AssertCompiles("## Redis: a primary and replicas behind one name", ReadmeSnippet.ConsoleUsings);
}
