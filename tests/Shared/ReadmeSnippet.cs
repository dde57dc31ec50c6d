using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Headless.Discovery.TestSupport;

/// <summary>
/// README's code as a newcomer pastes it: the first <c>csharp</c> block after a heading, compiled as a program's
/// top-level statements against everything the test project references.
/// </summary>
internal static class ReadmeSnippet
{
    /// <summary>The implicit usings of a <c>Microsoft.NET.Sdk</c> console project.</summary>
    public const string ConsoleUsings = """
        global using System;
        global using System.Collections.Generic;
        global using System.IO;
        global using System.Linq;
        global using System.Net.Http;
        global using System.Threading;
        global using System.Threading.Tasks;
        """;

    /// <summary>The implicit usings of a <c>Microsoft.NET.Sdk.Web</c> project: a console project's and ASP.NET Core's.</summary>
    public const string WebUsings = ConsoleUsings + """

        global using System.Net.Http.Json;
        global using Microsoft.AspNetCore.Builder;
        global using Microsoft.AspNetCore.Hosting;
        global using Microsoft.AspNetCore.Http;
        global using Microsoft.AspNetCore.Routing;
        global using Microsoft.Extensions.Configuration;
        global using Microsoft.Extensions.DependencyInjection;
        global using Microsoft.Extensions.Hosting;
        global using Microsoft.Extensions.Logging;
        """;

    /// <summary>The first <c>csharp</c> code block after <paramref name="heading"/> in the repository's README.</summary>
    public static string Under(string heading)
    {
        string[] lines = File.ReadAllLines(Path.Combine(RepositoryPaths.Root, "README.md"));
        int start = Array.IndexOf(lines, heading);
        Assert.True(start >= 0, $"README.md has no '{heading}' heading.");
        int open = Array.FindIndex(lines, start, l => l.StartsWith("```csharp", StringComparison.Ordinal));
        int close = Array.FindIndex(lines, open + 1, l => l.StartsWith("```", StringComparison.Ordinal));
        return string.Join(Environment.NewLine, lines[(open + 1)..close]);
    }

    /// <summary>Fails with the compiler's errors unless the block under <paramref name="heading"/> compiles.</summary>
    /// <param name="heading">The README heading, e.g. <c>## gRPC</c>.</param>
    /// <param name="usings">The project's implicit usings, and whatever the snippet assumes (a proto's namespace).</param>
    public static void AssertCompiles(string heading, string usings) => Compile(heading, usings, OutputKind.ConsoleApplication);

    /// <summary>
    /// Compiles the block under <paramref name="heading"/> (failing with the compiler's errors) and loads it, so a test
    /// can run what README shows.
    /// </summary>
    public static Assembly Compile(string heading, string usings, OutputKind kind)
    {
        string snippet = Under(heading);
        CSharpCompilation compilation = CSharpCompilation.Create(
            "ReadmeSnippet" + Guid.NewGuid().ToString("N"),
            [CSharpSyntaxTree.ParseText(usings), CSharpSyntaxTree.ParseText(snippet)],
            References(),
            new CSharpCompilationOptions(kind, nullableContextOptions: NullableContextOptions.Enable));
        using var image = new MemoryStream();
        Microsoft.CodeAnalysis.Emit.EmitResult emitted = compilation.Emit(image);
        Diagnostic[] errors = [.. emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)];
        Assert.True(emitted.Success && errors.Length == 0, string.Join(Environment.NewLine, errors.Select(e => e.ToString())) + Environment.NewLine + snippet);
        return Assembly.Load(image.ToArray());
    }

    private static IEnumerable<MetadataReference> References()
    {
        // The runtime's and the shared frameworks' assemblies, and every assembly beside the tests (packages, ours).
        string[] platform = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        string[] local = Directory.GetFiles(Path.GetDirectoryName(Assembly.GetExecutingAssembly().Location)!, "*.dll");
        return platform.Concat(local)
            .GroupBy(Path.GetFileName, StringComparer.OrdinalIgnoreCase)
            .Select(g => g.First())
            .Where(IsManaged)
            .Select(path => MetadataReference.CreateFromFile(path));
    }

    private static bool IsManaged(string path)
    {
        try
        {
            AssemblyName.GetAssemblyName(path);
            return true;
        }
        catch (BadImageFormatException)
        {
            return false;
        }
    }
}
