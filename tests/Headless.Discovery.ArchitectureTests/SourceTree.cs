using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Headless.Discovery.ArchitectureTests;

/// <summary>The repository's C# sources, parsed once: which room (folder) each core type lives in, and the sizes of files and methods.</summary>
internal static class SourceTree
{
    /// <summary>The room of a file directly in src/Headless.Discovery/: the facade users hold.</summary>
    public const string Root = "(root)";

    public static string RepositoryRoot { get; } = FindRoot();

    public static string CoreDirectory { get; } = Path.Combine(RepositoryRoot, "src", "Headless.Discovery");

    /// <summary>Every .cs file under src/, generated files (obj/, bin/) excluded.</summary>
    public static IReadOnlyList<string> SourceFiles { get; } =
    [
        .. Directory.EnumerateFiles(Path.Combine(RepositoryRoot, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal),
    ];

    /// <summary>Top-level type name (namespace-qualified, generic arity as `n) → the room its file is in.</summary>
    public static IReadOnlyDictionary<string, string> CoreRooms { get; } = MapCoreRooms();

    public static string Relative(string path) => Path.GetRelativePath(RepositoryRoot, path);

    public static SyntaxNode Parse(string path) => CSharpSyntaxTree.ParseText(File.ReadAllText(path), path: path).GetRoot();

    private static Dictionary<string, string> MapCoreRooms()
    {
        var rooms = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string file in SourceFiles.Where(f => f.StartsWith(CoreDirectory + Path.DirectorySeparatorChar, StringComparison.Ordinal)))
        {
            string relative = Path.GetRelativePath(CoreDirectory, file);
            string room = relative.Contains(Path.DirectorySeparatorChar, StringComparison.Ordinal) ? relative[..relative.IndexOf(Path.DirectorySeparatorChar)] : Root;
            foreach (BaseTypeDeclarationSyntax type in Parse(file).DescendantNodes().OfType<BaseTypeDeclarationSyntax>().Where(t => t.Parent is BaseNamespaceDeclarationSyntax or CompilationUnitSyntax))
            {
                string name = QualifiedName(type);
                if (rooms.TryGetValue(name, out string? existing) && existing != room)
                {
                    throw new InvalidOperationException($"{name} is declared in two rooms: {existing} and {room} ({Relative(file)}).");
                }

                rooms[name] = room;
            }
        }

        return rooms;
    }

    private static string QualifiedName(BaseTypeDeclarationSyntax type)
    {
        string ns = type.Ancestors().OfType<BaseNamespaceDeclarationSyntax>().FirstOrDefault()?.Name.ToString() ?? string.Empty;
        int arity = type is TypeDeclarationSyntax { TypeParameterList: { } parameters } ? parameters.Parameters.Count : 0;
        string name = arity > 0 ? $"{type.Identifier.Text}`{arity}" : type.Identifier.Text;
        return ns.Length == 0 ? name : $"{ns}.{name}";
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Headless.Discovery.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Headless.Discovery.sln not found above " + AppContext.BaseDirectory);
    }
}
