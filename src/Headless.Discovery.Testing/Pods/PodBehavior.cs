namespace Headless.Discovery.Testing;

/// <summary>What a <see cref="PodBehavior"/> does with a connection.</summary>
public enum PodBehaviorKind
{
    /// <summary>Answer: HTTP pods send a response with <see cref="PodBehavior.StatusCode"/>; TCP pods echo. Optionally after <see cref="PodBehavior.Delay"/>.</summary>
    Respond = 0,

    /// <summary>Accept the connection and read, but never answer (the client's timeout fires).</summary>
    Hang,

    /// <summary>Accept the connection and reset it at once (TCP RST, via linger 0).</summary>
    Reset,
}

/// <summary>
/// How a <see cref="LoopbackPod"/> answers: healthy, with another HTTP status, hanging, resetting or slowly.
/// Immutable; switch a pod's behaviour at runtime through <see cref="LoopbackPod.Behavior"/>.
/// </summary>
public sealed record PodBehavior
{
    private PodBehavior(PodBehaviorKind kind, int statusCode, TimeSpan delay)
    {
        Kind = kind;
        StatusCode = statusCode;
        Delay = delay;
    }

    /// <summary>Answer at once: HTTP 200, or echo for TCP pods. The default.</summary>
    public static PodBehavior Healthy { get; } = new(PodBehaviorKind.Respond, 200, TimeSpan.Zero);

    /// <summary>Accept and read, never answer.</summary>
    public static PodBehavior Hang { get; } = new(PodBehaviorKind.Hang, 0, TimeSpan.Zero);

    /// <summary>Accept, then reset the connection (RST) before reading anything.</summary>
    public static PodBehavior Reset { get; } = new(PodBehaviorKind.Reset, 0, TimeSpan.Zero);

    /// <summary>What the pod does.</summary>
    public PodBehaviorKind Kind { get; }

    /// <summary>The HTTP status code sent when <see cref="Kind"/> is <see cref="PodBehaviorKind.Respond"/> (ignored by TCP pods); 0 otherwise.</summary>
    public int StatusCode { get; }

    /// <summary>The delay before each answer (or echo) when <see cref="Kind"/> is <see cref="PodBehaviorKind.Respond"/>.</summary>
    public TimeSpan Delay { get; }

    /// <summary>Answer HTTP requests at once with <paramref name="statusCode"/> (TCP pods echo as when healthy).</summary>
    /// <param name="statusCode">The HTTP status code, 100 to 599.</param>
    /// <returns>The behaviour.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="statusCode"/> is outside 100 to 599.</exception>
    public static PodBehavior Status(int statusCode) => Slow(TimeSpan.Zero, statusCode);

    /// <summary>Answer after <paramref name="delay"/> (real time) with <paramref name="statusCode"/>.</summary>
    /// <param name="delay">The delay before each answer; zero or more.</param>
    /// <param name="statusCode">The HTTP status code, 100 to 599. Default 200.</param>
    /// <returns>The behaviour.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public static PodBehavior Slow(TimeSpan delay, int statusCode = 200)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(statusCode, 100);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(statusCode, 599);
        return new(PodBehaviorKind.Respond, statusCode, delay);
    }
}
