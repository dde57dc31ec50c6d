namespace Headless.Discovery.TestSupport;

/// <summary>Where the repository is, for tests that read its files (README, Dockerfiles, manifests).</summary>
internal static class RepositoryPaths
{
    /// <summary>The folder that holds <c>Headless.Discovery.sln</c>, found above the test assembly.</summary>
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Headless.Discovery.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (Headless.Discovery.sln) was not found above " + AppContext.BaseDirectory);
    }
}
