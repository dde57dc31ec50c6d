using CsCheck;
using Headless.Discovery.TestSupport;

namespace Headless.Discovery.Tests.Options;

/// <summary>The edit distance behind "did you mean" hints (a registered key, a CLI command).</summary>
public sealed class EditDistanceTests
{
    /// <summary>Levenshtein distance written out as the full matrix, ignoring case: the reference.</summary>
    private static int Reference(string a, string b)
    {
        a = a.ToUpperInvariant();
        b = b.ToUpperInvariant();
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (int j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
            {
                int substitution = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + substitution);
            }
        }

        return d[a.Length, b.Length];
    }

    [Fact]
    public void The_distance_is_levenshteins_ignoring_case_for_any_two_strings()
    {
        Gen<string> text = Gen.Char["abAB-"].Array[0, 9].Select(c => new string(c));
        Property.ForAll(Gen.Select(text, text), iterations: 2000, seed: 0x15_07_0001UL, (a, b) =>
            Assert.Equal(Reference(a, b), EditDistance.Between(a, b)));
    }

    [Theory]
    [InlineData("kitten", "sitting", 3)]
    [InlineData("backnd", "backend", 1)]
    [InlineData("Wach", "watch", 1)]
    [InlineData("", "abc", 3)]
    [InlineData("abc", "", 3)]
    [InlineData("same", "SAME", 0)]
    public void Known_distances(string a, string b, int expected) => Assert.Equal(expected, EditDistance.Between(a, b));

    [Fact]
    public void The_closest_candidate_wins_and_one_too_far_is_no_hint()
    {
        Assert.Equal("resolve", EditDistance.Closest("resolv", ["watch", "resolve", "probe"]));
        Assert.Equal("backend", EditDistance.Closest("backnd", ["backends", "backend"]));
        Assert.Null(EditDistance.Closest("zzz", ["backend", "cache"]));

        // Up to a third of the typed length (at least 2) is a typo: 3 edits of 9 characters are, 4 are not.
        Assert.Equal("abcdefghi", EditDistance.Closest("abcdefXXX", ["abcdefghi"]));
        Assert.Null(EditDistance.Closest("abcdeXXXX", ["abcdefghi"]));
        Assert.Equal("ab", EditDistance.Closest("x", ["ab"]));
    }
}
