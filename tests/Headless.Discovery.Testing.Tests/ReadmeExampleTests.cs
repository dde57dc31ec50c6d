using System.Reflection;
using Headless.Discovery.TestSupport;
using Microsoft.CodeAnalysis;

namespace Headless.Discovery.Testing.Tests;

/// <summary>README's worked test for the Testing package compiles as pasted, and passes when run (#15.10).</summary>
public sealed class ReadmeExampleTests
{
    [Fact]
    public async Task The_worked_example_compiles_and_passes()
    {
        Assembly example = ReadmeSnippet.Compile("## Testing your own code", ReadmeSnippet.ConsoleUsings, OutputKind.DynamicallyLinkedLibrary);
        Type tests = example.GetType("BackendTests", throwOnError: true)!;
        MethodInfo fact = tests.GetMethods().Single(m => m.GetCustomAttributes().Any(a => a.GetType().Name == "FactAttribute"));

        await ((Task)fact.Invoke(Activator.CreateInstance(tests), null)!).WaitAsync(TestTimeouts.Generous);
    }
}
