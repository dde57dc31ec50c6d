using CsCheck;

namespace Headless.Discovery.TestSupport;

/// <summary>
/// Runs a property over inputs generated from a fixed seed, the same inputs on every run. CsCheck's own
/// <c>Sample(seed: …)</c> fixes only the first iteration (the rest come from a fresh random source), so a property
/// sampled that way tests different inputs on each run; this runner draws every input from one seeded stream instead.
/// </summary>
/// <remarks>
/// A failing input is reported with its own CsCheck seed and then handed to CsCheck, which replays it and shrinks it to
/// a smaller failing input (its message gives the seed to reproduce that one: <c>Sample(seed: "…")</c>).
/// </remarks>
internal static class Property
{
    /// <summary>Checks <paramref name="property"/> for <paramref name="iterations"/> inputs drawn from <paramref name="seed"/>.</summary>
    /// <param name="print">How a failing input is shown. Default: CsCheck's <c>Check.Print</c>.</param>
    public static void ForAll<T>(Gen<T> gen, int iterations, ulong seed, Action<T> property, Func<T, string>? print = null)
    {
        var pcg = new PCG(1, seed);
        for (int i = 0; i < iterations; i++)
        {
            string inputSeed = pcg.ToString();
            T input = gen.Generate(pcg, null, out _);
            try
            {
                property(input);
            }
            catch (Exception ex)
            {
                Fail(i, inputSeed, (print ?? Check.Print)(input), ex, Shrink(() => gen.Sample(property, seed: inputSeed, iter: 500, threads: 1, print: print)));
            }
        }
    }

    /// <summary>Checks an asynchronous <paramref name="property"/> for <paramref name="iterations"/> inputs drawn from <paramref name="seed"/>, one at a time.</summary>
    public static async Task ForAllAsync<T>(Gen<T> gen, int iterations, ulong seed, Func<T, Task> property)
    {
        var pcg = new PCG(1, seed);
        for (int i = 0; i < iterations; i++)
        {
            string inputSeed = pcg.ToString();
            T input = gen.Generate(pcg, null, out _);
            try
            {
                await property(input);
            }
            catch (Exception ex)
            {
                Fail(i, inputSeed, Check.Print(input), ex, await ShrinkAsync(() => gen.SampleAsync(property, seed: inputSeed, iter: 100, threads: 1)));
            }
        }
    }

    /// <summary><see cref="ForAll{T}"/> over pairs, with the pair's parts as arguments.</summary>
    public static void ForAll<T1, T2>(Gen<(T1, T2)> gen, int iterations, ulong seed, Action<T1, T2> property) =>
        ForAll(gen, iterations, seed, t => property(t.Item1, t.Item2));

    /// <summary><see cref="ForAllAsync{T}"/> over pairs, with the pair's parts as arguments.</summary>
    public static Task ForAllAsync<T1, T2>(Gen<(T1, T2)> gen, int iterations, ulong seed, Func<T1, T2, Task> property) =>
        ForAllAsync(gen, iterations, seed, t => property(t.Item1, t.Item2));

    /// <summary><see cref="ForAllAsync{T}"/> over triples, with the triple's parts as arguments.</summary>
    public static Task ForAllAsync<T1, T2, T3>(Gen<(T1, T2, T3)> gen, int iterations, ulong seed, Func<T1, T2, T3, Task> property) =>
        ForAllAsync(gen, iterations, seed, t => property(t.Item1, t.Item2, t.Item3));

    /// <summary><see cref="ForAllAsync{T}"/> over quadruples, with the parts as arguments.</summary>
    public static Task ForAllAsync<T1, T2, T3, T4>(Gen<(T1, T2, T3, T4)> gen, int iterations, ulong seed, Func<T1, T2, T3, T4, Task> property) =>
        ForAllAsync(gen, iterations, seed, t => property(t.Item1, t.Item2, t.Item3, t.Item4));

    private static Exception? Shrink(Action sample)
    {
        try
        {
            sample();
            return null;
        }
        catch (Exception ex)
        {
            return ex;
        }
    }

    private static async Task<Exception?> ShrinkAsync(Func<Task> sample)
    {
        try
        {
            await sample();
            return null;
        }
        catch (Exception ex)
        {
            return ex;
        }
    }

    private static void Fail(int iteration, string inputSeed, string input, Exception failure, Exception? shrunk) =>
        throw new Xunit.Sdk.XunitException(
            $"Property failed at iteration {iteration} (CsCheck seed \"{inputSeed}\"): {input}{Environment.NewLine}"
            + $"{failure.GetType().Name}: {failure.Message}{Environment.NewLine}"
            + (shrunk is null ? "(replaying that seed passed: the failure depends on timing)" : $"Shrunk by CsCheck: {shrunk.Message}"),
            failure);
}
