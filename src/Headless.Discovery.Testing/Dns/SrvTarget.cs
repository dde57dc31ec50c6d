namespace Headless.Discovery.Testing;

/// <summary>
/// One SRV record's data (RFC 2782): target host name, port, priority and weight. Immutable.
/// </summary>
public sealed record SrvTarget
{
    /// <summary>Creates an SRV target.</summary>
    /// <param name="hostname">The target host name, e.g. <c>web-0.web.default.svc.cluster.local</c>; trailing dot optional.</param>
    /// <param name="port">The TCP or UDP port, 0 to 65535.</param>
    /// <param name="priority">The priority, 0 to 65535; lower is preferred. Default 0.</param>
    /// <param name="weight">The relative weight among targets of equal priority, 0 to 65535. Default 0.</param>
    /// <exception cref="ArgumentException"><paramref name="hostname"/> is null, empty or whitespace.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A number is outside 0 to 65535.</exception>
    public SrvTarget(string hostname, int port, int priority = 0, int weight = 0)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(hostname);
        CheckUShort(port);
        CheckUShort(priority);
        CheckUShort(weight);
        Hostname = hostname;
        Port = port;
        Priority = priority;
        Weight = weight;
    }

    /// <summary>The target host name, as given.</summary>
    public string Hostname { get; }

    /// <summary>The port, 0 to 65535.</summary>
    public int Port { get; }

    /// <summary>The priority, 0 to 65535 (lower is preferred). Default 0.</summary>
    public int Priority { get; }

    /// <summary>The weight, 0 to 65535. Default 0.</summary>
    public int Weight { get; }

    private static void CheckUShort(int value, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(value))] string? name = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value, name);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(value, ushort.MaxValue, name);
    }
}
