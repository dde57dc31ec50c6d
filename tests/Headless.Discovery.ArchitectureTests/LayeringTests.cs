using ArchUnitNET.Domain;
using ArchUnitNET.Domain.Dependencies;
using ArchUnitNET.Loader;

namespace Headless.Discovery.ArchitectureTests;

/// <summary>
/// Data flows one way through the core (DESIGN.md, "Data flow and layering"): every reference from a type in one room
/// (folder of src/Headless.Discovery) to a type in another must be an edge this table allows.
/// </summary>
public sealed class LayeringTests
{
    private static readonly string[] Leaves = ["Timing", "Options", "Diagnostics"];

    /// <summary>Room → the rooms its types may reference (besides itself and the shared leaves).</summary>
    private static readonly Dictionary<string, string[]> Allowed = new(StringComparer.Ordinal)
    {
        ["Timing"] = [],
        ["Options"] = [],
        ["Diagnostics"] = [],
        ["Naming"] = [],
        ["Endpoints"] = ["Naming"],
        ["Resolution"] = ["Endpoints", "Naming"],
        ["Refresh"] = ["Resolution", "Endpoints", "Naming"],
        ["Health"] = ["Endpoints", "Naming"],
        ["Publication"] = ["Health", "Endpoints", "Naming"],
        [SourceTree.Root] = ["Refresh", "Resolution", "Health", "Publication", "Endpoints", "Naming"],
        ["Selection"] = [SourceTree.Root, "Health", "Endpoints", "Naming"],
        ["FanOut"] = [SourceTree.Root, "Selection", "Health", "Endpoints", "Naming"],
        ["Connections"] = [SourceTree.Root, "Selection", "Health", "Endpoints", "Naming"],
        ["DependencyInjection"] = [SourceTree.Root, "Selection", "FanOut", "Connections", "Refresh", "Resolution", "Health", "Publication", "Endpoints", "Naming"],
    };

    private static readonly System.Reflection.Assembly Core = typeof(PodEndpoint).Assembly;

    private static readonly Lazy<ArchUnitNET.Domain.Architecture> Architecture = new(() => new ArchLoader().LoadAssemblies(Core).Build());

    [Fact]
    public void Every_core_type_lives_in_a_known_room()
    {
        string[] unknown = [.. SourceTree.CoreRooms.Where(t => !Allowed.ContainsKey(t.Value)).Select(t => $"{t.Key} in {t.Value}/")];
        Assert.True(unknown.Length == 0, "Rooms without a rule (add them to the table or move the type):\n" + string.Join('\n', unknown));
    }

    [Fact]
    public void No_reference_runs_against_the_flow()
    {
        var violations = new SortedSet<string>(StringComparer.Ordinal);
        foreach (IType type in Architecture.Value.Types)
        {
            if (RoomOf(type) is not { } from)
            {
                continue;
            }

            foreach (ITypeDependency dependency in type.Dependencies)
            {
                if (RoomOf(dependency.Target) is { } to && to != from && !Leaves.Contains(to) && !Allowed[from].Contains(to))
                {
                    violations.Add($"{from} → {to}: {TopLevel(type.FullName)} uses {TopLevel(dependency.Target.FullName)}");
                }
            }
        }

        Assert.True(violations.Count == 0, $"{violations.Count} references against the flow:\n" + string.Join('\n', violations));
    }

    [Fact]
    public void Only_the_root_and_registration_know_the_concrete_HeadlessService()
    {
        var violations = new SortedSet<string>(StringComparer.Ordinal);
        foreach (IType type in Architecture.Value.Types)
        {
            string? room = RoomOf(type);
            if (room is null || room == SourceTree.Root || room == "DependencyInjection")
            {
                continue;
            }

            if (type.Dependencies.Any(d => TopLevel(d.Target.FullName) == "Headless.Discovery.HeadlessService"))
            {
                violations.Add($"{room}: {TopLevel(type.FullName)}");
            }
        }

        Assert.True(violations.Count == 0, "Types that reach past IHeadlessService to HeadlessService:\n" + string.Join('\n', violations));
    }

    private static string? RoomOf(IType? type) =>
        type?.Assembly?.FullName == Core.FullName && SourceTree.CoreRooms.TryGetValue(TopLevel(type!.FullName), out string? room) ? room : null;

    /// <summary>The declaring top-level type of a nested or generic-instance name: A+B, A/B and A`1[[…]] all give A or A`1.</summary>
    private static string TopLevel(string fullName)
    {
        int cut = fullName.IndexOfAny(['+', '/', '[', '<']);
        return cut < 0 ? fullName : fullName[..cut];
    }
}
