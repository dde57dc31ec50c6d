using System.Diagnostics;
using System.Text.RegularExpressions;
using Headless.Discovery.TestSupport;

namespace Headless.Discovery.Examples.Tests;

/// <summary>
/// Each example's Dockerfile builds (#15.1): its build stage's <c>dotnet publish</c> runs on exactly the files its
/// <c>COPY</c> lines copy (minus what its .dockerignore leaves out), in an empty folder, as <c>docker build</c> would.
/// No Docker needed: the SDK image's step is the same command.
/// </summary>
public sealed partial class DockerfileTests
{
    public static TheoryData<string> Dockerfiles() =>
        [.. Directory.GetFiles(Path.Combine(RepositoryPaths.Root, "examples"), "Dockerfile", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(RepositoryPaths.Root, f))
            .Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(Dockerfiles))]
    public async Task The_build_stage_publishes_from_exactly_the_files_it_copies(string dockerfile)
    {
        string root = RepositoryPaths.Root;
        string context = Directory.CreateTempSubdirectory("hd-docker-context-").FullName;
        try
        {
            string[] lines = File.ReadAllLines(Path.Combine(root, dockerfile));
            // The build stage: from the first FROM to the next.
            int first = Array.FindIndex(lines, l => l.StartsWith("FROM ", StringComparison.Ordinal));
            string buildStage = string.Join('\n', lines.Skip(first + 1).TakeWhile(l => !l.StartsWith("FROM ", StringComparison.Ordinal)));
            foreach (Match copy in CopyLine().Matches(buildStage))
            {
                string[] parts = copy.Groups["args"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                // COPY <sources…> <dir/>: a file lands in the folder under its name, a folder's contents land in it.
                string destination = Path.Combine(context, parts[^1]);
                foreach (string source in parts[..^1])
                {
                    CopyIntoContext(root, source, destination);
                }
            }

            Match run = RunPublish().Match(buildStage);
            Assert.True(run.Success, $"{dockerfile} has no 'RUN dotnet publish' in its build stage.");
            string[] publish = [.. run.Groups["args"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(a => a == "/app" ? Path.Combine(context, "app") : a)];
            (int exit, string output) = await RunAsync(context, ["publish", .. publish]);
            Assert.True(exit == 0, $"dotnet publish failed in the Dockerfile's context:\n{output}");

            // Production images carry no test tooling: the embedded DNS server and what it brings (#15.11).
            string[] shipped = [.. Directory.GetFiles(Path.Combine(context, "app"), "*.dll").Select(Path.GetFileName)!];
            Assert.DoesNotContain(shipped, f => f!.StartsWith("ARSoft", StringComparison.Ordinal) || f.StartsWith("BouncyCastle", StringComparison.Ordinal) || f == "Headless.Discovery.Testing.dll");
        }
        finally
        {
            Directory.Delete(context, recursive: true);
        }
    }

    private static void CopyIntoContext(string root, string source, string target)
    {
        string from = Path.Combine(root, source.TrimEnd('/'));
        if (File.Exists(from))
        {
            Directory.CreateDirectory(target);
            File.Copy(from, Path.Combine(target, Path.GetFileName(from)), overwrite: true);
            return;
        }

        Assert.True(Directory.Exists(from), $"COPY source '{source}' does not exist.");
        foreach (string file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(from, file);
            string[] segments = relative.Split(Path.DirectorySeparatorChar);
            if (segments.Any(s => s is "bin" or "obj" or ".git" or "TestResults"))
            {
                continue; // the .dockerignore's **/bin/, **/obj/, **/.git, **/TestResults/
            }

            string to = Path.Combine(target, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(file, to, overwrite: true);
        }
    }

    private static async Task<(int Exit, string Output)> RunAsync(string directory, string[] args)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(10));
        return (process.ExitCode, await stdout + await stderr);
    }

    [GeneratedRegex(@"^COPY (?!--from)(?<args>.+)$", RegexOptions.Multiline)]
    private static partial Regex CopyLine();

    [GeneratedRegex(@"^RUN dotnet publish (?<args>.+)$", RegexOptions.Multiline)]
    private static partial Regex RunPublish();
}
