using CsCheck;

namespace Headless.Discovery.Tests.Selection;

/// <summary>
/// Runs a CsCheck property over cases that are the same in every run. CsCheck's own <c>seed:</c> fixes only the first
/// iteration; here every case gets its own seed, derived from <paramref name="seed"/>, so a failure names the case seed
/// that reproduces it (<c>gen.Sample(assert, seed: caseSeed, iter: 1)</c>).
/// </summary>
internal static class SeededSample
{
    public static void Run<T>(Gen<T> gen, Action<T> assert, string seed, int iter, Func<T, string>? print = null)
    {
        var master = PCG.Parse(seed);
        for (int i = 0; i < iter; i++)
        {
            string caseSeed = new PCG(master.Stream, master.Next64()).ToString();
            gen.Sample(assert, seed: caseSeed, iter: 1, threads: 1, print: print);
        }
    }
}
