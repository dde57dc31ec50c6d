namespace Headless.Discovery.Cli.Tests;

/// <summary>Runs the CLI in-process and captures stdout/stderr line by line.</summary>
internal sealed class CliHarness
{
    public LineWriter Stdout { get; } = new();

    public LineWriter Stderr { get; } = new();

    public CliServices Services { get; init; } = CliServices.Default;

    public Task<int> RunAsync(params string[] args) => RunAsync(CancellationToken.None, args);

    public Task<int> RunAsync(CancellationToken cancellationToken, params string[] args) =>
        CliApp.RunAsync(args, Stdout, Stderr, Services, cancellationToken);

    /// <summary>Services whose resolver always returns <paramref name="result"/>; anything else is a test failure.</summary>
    public static CliServices WithResolver(Func<HeadlessServiceOptions, ServiceName, ResolutionResult> result) => new()
    {
        Qualify = name => ServiceName.Qualify(name, TestEnvironment),
        CreateResolver = options => new FuncResolver(service => result(options, service)),
        CreateService = (_, _, _) => throw new InvalidOperationException("not used by this test"),
    };

    /// <summary>A Kubernetes environment with namespace 'default' and domain 'cluster.local', whatever the test machine has.</summary>
    public static KubernetesDnsEnvironment TestEnvironment { get; } = CreateTestEnvironment();

    private static KubernetesDnsEnvironment CreateTestEnvironment()
    {
        string dir = Directory.CreateTempSubdirectory("hd-cli-env-").FullName;
        string resolvConf = Path.Combine(dir, "resolv.conf");
        File.WriteAllText(resolvConf, "search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 127.0.0.1\noptions ndots:5\n");
        return new KubernetesDnsEnvironment(resolvConf, Path.Combine(dir, "no-namespace-file"), variable => variable == "POD_NAMESPACE" ? "default" : null);
    }

    private sealed class FuncResolver(Func<ServiceName, ResolutionResult> resolve) : IEndpointResolver
    {
        public ValueTask<ResolutionResult> ResolveAsync(ServiceName service, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(resolve(service));
    }
}
