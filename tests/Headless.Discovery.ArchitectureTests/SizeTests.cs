using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Headless.Discovery.ArchitectureTests;

/// <summary>Rooms stay small enough to read in one sitting: no file in src/ over 400 lines, no method over 60.</summary>
public sealed class SizeTests
{
    private const int MaxFileLines = 400;
    private const int MaxMethodLines = 60;

    [Fact]
    public void No_source_file_is_over_400_lines()
    {
        string[] large =
        [
            .. SourceTree.SourceFiles
                .Select(f => (File: f, Lines: File.ReadLines(f).Count()))
                .Where(f => f.Lines > MaxFileLines)
                .Select(f => $"{SourceTree.Relative(f.File)}: {f.Lines} lines"),
        ];
        Assert.True(large.Length == 0, $"Files over {MaxFileLines} lines:\n" + string.Join('\n', large));
    }

    [Fact]
    public void No_method_is_over_60_lines()
    {
        var large = new List<string>();
        foreach (string file in SourceTree.SourceFiles)
        {
            foreach (SyntaxNode member in SourceTree.Parse(file).DescendantNodes().Where(n => n is BaseMethodDeclarationSyntax or AccessorDeclarationSyntax or LocalFunctionStatementSyntax))
            {
                SyntaxNode? body = member switch
                {
                    BaseMethodDeclarationSyntax m => (SyntaxNode?)m.Body ?? m.ExpressionBody,
                    AccessorDeclarationSyntax a => (SyntaxNode?)a.Body ?? a.ExpressionBody,
                    LocalFunctionStatementSyntax l => (SyntaxNode?)l.Body ?? l.ExpressionBody,
                    _ => null,
                };
                if (body is null)
                {
                    continue;
                }

                FileLinePositionSpan span = body.GetLocation().GetLineSpan();
                int lines = span.EndLinePosition.Line - span.StartLinePosition.Line + 1;
                if (lines > MaxMethodLines)
                {
                    large.Add($"{SourceTree.Relative(file)}:{span.StartLinePosition.Line + 1} {Name(member)}: {lines} lines");
                }
            }
        }

        Assert.True(large.Count == 0, $"Methods over {MaxMethodLines} lines:\n" + string.Join('\n', large));
    }

    private static string Name(SyntaxNode member) => member switch
    {
        MethodDeclarationSyntax m => m.Identifier.Text,
        ConstructorDeclarationSyntax c => c.Identifier.Text + " (constructor)",
        LocalFunctionStatementSyntax l => l.Identifier.Text + " (local function)",
        AccessorDeclarationSyntax a => a.Keyword.Text + " accessor",
        _ => member.Kind().ToString(),
    };
}
