using System.Globalization;

namespace Headless.Discovery;

/// <summary>
/// How a <see cref="ConnectionSet{TConnection}"/> connects. Validated (one <see cref="InvalidOptionsException"/> naming
/// every bad option) and copied by its constructor: later changes have no effect on a set already built.
/// </summary>
public sealed class ConnectionSetOptions
{
    /// <summary>
    /// Keep connections to unhealthy and ejected pods too. Default <see langword="false"/>: a connection is kept for each
    /// pod of <see cref="EndpointSet.Available"/> (every pod in panic mode), and closed when its pod becomes unavailable.
    /// </summary>
    public bool IncludeUnhealthy { get; set; }

    /// <summary>How long one connect attempt may take before it is abandoned and retried; 10 ms (the floor) to one day. Default 10 seconds.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The delay before the first retry of a failed connect; doubles per attempt (with jitter) up to <see cref="MaxBackoff"/>. 10 ms (the floor) to one day. Default 100 ms.</summary>
    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest delay between connect attempts; at least <see cref="InitialBackoff"/>. Default 30 seconds. Attempts go on while the pod is a member.</summary>
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Checks every option; throws one <see cref="InvalidOptionsException"/> listing every bad one.</summary>
    internal void Validate()
    {
        var problems = new OptionProblems();
        Collect(problems);
        problems.ThrowIfAny("options");
    }

    /// <summary>Adds every problem of these options to <paramref name="problems"/>.</summary>
    internal void Collect(OptionProblems problems)
    {
        problems.Duration(ConnectTimeout, OptionProblems.TimeoutFloor, TimeSpan.FromDays(1), nameof(ConnectTimeout));
        problems.Duration(InitialBackoff, OptionProblems.TimeoutFloor, TimeSpan.FromDays(1), nameof(InitialBackoff));
        problems.Duration(MaxBackoff, OptionProblems.TimeoutFloor, TimeSpan.FromDays(1), nameof(MaxBackoff));
        if (MaxBackoff < InitialBackoff)
        {
            problems.Add(nameof(MaxBackoff), string.Create(CultureInfo.InvariantCulture, $"{MaxBackoff} must be at least {nameof(InitialBackoff)} ({InitialBackoff})."));
        }
    }

    /// <summary>A copy: what a <see cref="ConnectionSet{TConnection}"/> keeps, so later changes to these options have no effect on it.</summary>
    internal ConnectionSetOptions Clone() => new()
    {
        IncludeUnhealthy = IncludeUnhealthy,
        ConnectTimeout = ConnectTimeout,
        InitialBackoff = InitialBackoff,
        MaxBackoff = MaxBackoff,
    };
}
