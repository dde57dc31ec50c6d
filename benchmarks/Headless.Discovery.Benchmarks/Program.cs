using BenchmarkDotNet.Running;

namespace Headless.Discovery.Benchmarks;

internal static class Program
{
    private static int Main(string[] args)
    {
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, BenchmarkConfig.Create());
        return BenchmarkConfig.ExitCode(summaries);
    }
}
