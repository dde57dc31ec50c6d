namespace Headless.Discovery.Cli;

/// <summary>
/// The seams the commands are built on: how a name is qualified, how a resolver and a live service are made, and the
/// clock. <see cref="Default"/> wires the real implementations; tests swap single pieces.
/// </summary>
internal sealed class CliServices
{
    /// <summary>Turns the name given on the command line into a fully qualified service name.</summary>
    public required Func<string, ServiceName> Qualify { get; init; }

    /// <summary>Creates the DNS resolver for one command run from the validated options (disposed afterwards when it is disposable).</summary>
    public required Func<HeadlessServiceOptions, IEndpointResolver> CreateResolver { get; init; }

    /// <summary>Creates the live service <c>watch</c> follows.</summary>
    public required Func<ServiceName, IEndpointResolver, HeadlessServiceOptions, IHeadlessService> CreateService { get; init; }

    /// <summary>The clock for timestamps and <c>--duration</c>. Default: <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>The real implementations.</summary>
    public static CliServices Default { get; } = new()
    {
        Qualify = name => ServiceName.Qualify(name),
        CreateResolver = options => new DnsEndpointResolver(options),
        CreateService = (service, resolver, options) => new HeadlessService(service, resolver, options),
    };
}
