namespace Headless.Discovery;

/// <summary>
/// One invalid option, as listed by <see cref="InvalidOptionsException.Problems"/>: which option (<see cref="Path"/>) and
/// what is wrong with it (<see cref="Message"/>). Immutable.
/// </summary>
public sealed class OptionProblem
{
    internal OptionProblem(string path, string message)
    {
        Path = path;
        Message = message;
    }

    /// <summary>
    /// The option's path from the options object that was validated: property names joined by <c>.</c>, list entries as
    /// <c>[index]</c>, e.g. <c>MinRefreshInterval</c>, <c>ActiveHealth.Interval</c>, <c>ActiveHealth.Http.Host</c>,
    /// <c>DnsServers[1]</c>. Configuration keys follow the same names (<c>ActiveHealth:Interval</c>, <c>DnsServers:1</c>).
    /// </summary>
    public string Path { get; }

    /// <summary>What is wrong, starting with the value given, e.g. <c>0 must be between 1 and 100.</c></summary>
    public string Message { get; }

    /// <summary><c>&lt;Path&gt;: &lt;Message&gt;</c>.</summary>
    /// <returns>The problem as one line.</returns>
    public override string ToString() => Path + ": " + Message;
}
