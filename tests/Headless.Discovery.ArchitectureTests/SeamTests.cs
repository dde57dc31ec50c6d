using System.Reflection;

namespace Headless.Discovery.ArchitectureTests;

/// <summary>
/// Tests reach the core through its public API, a <see cref="TimeProvider"/> and randomness given at construction —
/// never through hooks that production types carry for tests alone.
/// </summary>
public sealed class SeamTests
{
    private const BindingFlags Everything = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    /// <summary>
    /// The members issue 12 found on production types that only tests read or wrote: a plain name matches on any type; a
    /// <c>Type.Member</c> name (for names too common to ban everywhere) matches on that type only.
    /// </summary>
    private static readonly string[] TestOnlyMembers =
    [
        "NextRandom", "LastScheduledDelay", "NextRefreshCompleted", "LoopOf", "ActiveLoops", "MaxObservedConcurrency",
        "TrackedCount", "CompletedProbes", "WaitForCompletedProbesAsync", "OutstandingOf", "CurrentSubset", "CreateInitial",
        "HeadlessService.Health", "HealthTracker.Monitor",
    ];

    [Fact]
    public void No_production_type_carries_a_member_that_only_tests_use()
    {
        string[] found =
        [
            .. typeof(PodEndpoint).Assembly.GetTypes()
                .SelectMany(t => t.GetMembers(Everything).Select(m => (Type: t, Member: m)))
                .Where(x => TestOnlyMembers.Contains(x.Member.Name) || TestOnlyMembers.Contains($"{x.Type.Name}.{x.Member.Name}"))
                .Select(x => $"{x.Type.FullName}.{x.Member.Name}")
                .Distinct()
                .Order(StringComparer.Ordinal),
        ];
        Assert.True(found.Length == 0, "Test-only members on production types:\n" + string.Join('\n', found));
    }

    [Fact]
    public void No_non_public_settable_delegate_is_a_hook()
    {
        // A settable Func/Action that is not part of the public API exists for someone to swap it: a test seam.
        string[] hooks =
        [
            .. typeof(PodEndpoint).Assembly.GetTypes()
                .Where(t => !t.IsDefined(typeof(System.Runtime.CompilerServices.CompilerGeneratedAttribute)))
                .SelectMany(t => t.GetProperties(Everything).Select(p => (Type: t, Property: p)))
                .Where(x => typeof(Delegate).IsAssignableFrom(x.Property.PropertyType)
                    && x.Property.SetMethod is { } setter && !setter.IsPublic && !setter.IsPrivate)
                .Select(x => $"{x.Type.FullName}.{x.Property.Name}")
                .Order(StringComparer.Ordinal),
        ];
        Assert.True(hooks.Length == 0, "Settable delegate hooks:\n" + string.Join('\n', hooks));
    }
}
