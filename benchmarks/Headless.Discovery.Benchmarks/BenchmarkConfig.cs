using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Reports;

namespace Headless.Discovery.Benchmarks;

/// <summary>The configuration every suite runs with; the job (short, dry, default) comes from the command line.</summary>
internal static class BenchmarkConfig
{
    public static IConfig Create() =>
        DefaultConfig.Instance
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddColumn(StatisticColumn.Median)
            .WithOrderer(new BenchmarkDotNet.Order.DefaultOrderer(BenchmarkDotNet.Order.SummaryOrderPolicy.Declared));

    /// <summary>
    /// BenchmarkDotNet exits 0 even when a benchmark throws or a case produced no result; CI needs a failing exit code.
    /// </summary>
    public static int ExitCode(IEnumerable<Summary> summaries)
    {
        var list = summaries.ToList();
        if (list.Count == 0)
        {
            // Nothing matched the filter (or --list/--help): not an error by itself.
            return 0;
        }

        int failures = 0;
        foreach (Summary summary in list)
        {
            if (summary.HasCriticalValidationErrors)
            {
                Console.Error.WriteLine($"FAILED: {summary.Title}: critical validation errors.");
                failures++;
            }

            foreach (BenchmarkReport report in summary.Reports)
            {
                bool ran = report.Success && report.ExecuteResults.Count > 0 && report.ExecuteResults.All(r => r.IsSuccess);
                if (!ran)
                {
                    Console.Error.WriteLine($"FAILED: {report.BenchmarkCase.DisplayInfo}");
                    failures++;
                }
            }

            int missing = summary.BenchmarksCases.Length - summary.Reports.Length;
            if (missing > 0)
            {
                Console.Error.WriteLine($"FAILED: {summary.Title}: {missing} benchmark case(s) produced no report.");
                failures++;
            }
        }

        return failures == 0 ? 0 : 1;
    }
}
