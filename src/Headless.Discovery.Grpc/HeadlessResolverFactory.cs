using Grpc.Net.Client.Balancer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Headless.Discovery.Grpc;

/// <summary>
/// Creates resolvers for <c>headless:///&lt;key-or-name&gt;</c> channel addresses: the channel balances over the
/// available pods of a headless Service (healthy or not yet probed, not ejected), follows every change the service
/// publishes, and turns its re-resolve requests into rate-limited early refreshes.
/// </summary>
/// <remarks>
/// <para>
/// <c>headless:///backend</c>, where <c>backend</c> is a key registered with <c>AddHeadlessService</c>, uses that
/// registered service (shared with the rest of the application, and not disposed with the channel). Any other
/// <c>headless:///&lt;dns-name&gt;[:port]</c> gets a service of its own, created with default options (and
/// <c>configure</c>'s), which the channel's resolver disposes.
/// </para>
/// <para>
/// The channel needs credentials that say whether to use TLS (<c>ChannelCredentials.Insecure</c> for h2c), and a
/// load-balancing policy that spreads calls (<c>RoundRobinConfig</c>; gRPC's default, pick first, sends every call to
/// one pod).
/// </para>
/// </remarks>
public sealed class HeadlessResolverFactory : ResolverFactory
{
    /// <summary>The address scheme: <c>headless</c>.</summary>
    public const string Scheme = "headless";

    private readonly IServiceProvider? _services;
    private readonly Action<HeadlessServiceOptions>? _configure;

    /// <summary>Creates the factory.</summary>
    /// <param name="services">The application's services, where registered headless services are looked up; <see langword="null"/> for none.</param>
    /// <param name="configure">Sets the options of a service the factory creates for a name that is not a registered key (DNS servers, port, health…).</param>
    public HeadlessResolverFactory(IServiceProvider? services = null, Action<HeadlessServiceOptions>? configure = null)
    {
        _services = services;
        _configure = configure;
    }

    /// <summary><c>headless</c>.</summary>
    public override string Name => Scheme;

    /// <summary>Creates the resolver of one channel.</summary>
    /// <param name="options">The channel's address (<c>headless:///&lt;key-or-name&gt;</c>) and settings.</param>
    /// <returns>The resolver.</returns>
    /// <exception cref="ArgumentException">The address names no service, or a name that is not a valid service name.</exception>
    /// <exception cref="InvalidOptionsException">The options of a service created for a name are invalid (every problem named).</exception>
    public override Resolver Create(ResolverOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        string target = Uri.UnescapeDataString(options.Address.AbsolutePath.TrimStart('/'));
        if (target.Length == 0)
        {
            throw new ArgumentException($"'{options.Address}' names no service: write headless:///<key> for a registered service or headless:///<name>[:port] for a DNS name.", nameof(options));
        }

        ILoggerFactory loggers = options.LoggerFactory ?? NullLoggerFactory.Instance;
        ILogger logger = loggers.CreateLogger("Headless.Discovery.Grpc");
        IServiceProvider? services = _services ?? options.ChannelOptions.ServiceProvider;
        if (services?.GetService<IHeadlessServiceRegistry>() is { } registry && registry.Keys.Contains(target, StringComparer.Ordinal))
        {
            return new HeadlessResolver(registry.GetService(target), owned: null, options.DefaultPort, logger);
        }

        HeadlessServiceOptions serviceOptions = OptionsFor(target);
        var owned = new HeadlessService(serviceOptions, timeProvider: null, loggerFactory: loggers);
        return new HeadlessResolver(owned, owned, options.DefaultPort, logger);
    }

    private HeadlessServiceOptions OptionsFor(string target)
    {
        // name:port (a port after the last colon that is not part of an IPv6 literal: names never contain ':').
        string name = target;
        int port = 0;
        int colon = target.LastIndexOf(':');
        if (colon > 0 && int.TryParse(target.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int parsed))
        {
            name = target[..colon];
            port = parsed;
        }

        var options = new HeadlessServiceOptions { Name = name, Port = port };
        _configure?.Invoke(options);
        return options;
    }
}
