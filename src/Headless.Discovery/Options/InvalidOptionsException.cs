namespace Headless.Discovery;

/// <summary>
/// Thrown when options are invalid (by <c>HeadlessServiceOptions.Validate</c> and by the constructors and methods that
/// take options: <c>HeadlessService</c>, <c>DnsEndpointResolver</c>, <c>HttpProbe</c>, <c>ConnectionSet</c>,
/// <c>FanOutAsync</c>). It lists every invalid option at once, not just the first: <see cref="Problems"/> holds them one
/// by one and the message has one line per problem (<c>&lt;path&gt;: &lt;what is wrong&gt;</c>). Immutable.
/// </summary>
public sealed class InvalidOptionsException : ArgumentException
{
    internal InvalidOptionsException(IReadOnlyList<OptionProblem> problems, string? paramName)
        : base(string.Join(Environment.NewLine, problems), paramName)
    {
        Problems = problems;
    }

    /// <summary>Every invalid option, in the order the options were checked; never empty.</summary>
    public IReadOnlyList<OptionProblem> Problems { get; }
}
