namespace Headless.Discovery.Cli;

/// <summary>The process exit codes: part of the CLI's contract with scripts.</summary>
internal static class ExitCodes
{
    /// <summary>Success (for <c>watch</c> and <c>demo</c>: ended by <c>--duration</c>, Ctrl+C or SIGTERM).</summary>
    public const int Ok = 0;

    /// <summary>Something unexpected went wrong (a bug or an environment problem); the message is on stderr.</summary>
    public const int Error = 1;

    /// <summary>The name does not exist (NXDOMAIN) or has no records of the requested type (NODATA).</summary>
    public const int NotFound = 2;

    /// <summary>DNS failed: unreachable, timed out, SERVFAIL, REFUSED or a malformed answer.</summary>
    public const int DnsFailure = 3;

    /// <summary><c>fanout</c>: the mode's goal was not met (a pod failed, timed out or a quorum was out of reach).</summary>
    public const int GoalNotMet = 5;

    /// <summary>Bad usage: unknown command or option, missing or invalid argument (EX_USAGE from sysexits.h).</summary>
    public const int Usage = 64;
}
