using System.Net;
using Headless.Discovery;

namespace Headless.Discovery.Tests.Refresh;

/// <summary>Answers for <see cref="Testing.ScriptedResolver"/> in these tests: pods 10.0.0.x, port 80.</summary>
internal static class ScriptedAnswers
{
    /// <summary>The default script: pods .1, .2, .3 with a TTL of 5 s.</summary>
    public static ResolutionResult Default => Ok(5, 1, 2, 3);

    public static PodEndpoint Pod(int last, int port = 80) => new(IPAddress.Parse($"10.0.0.{last}"), port);

    public static ResolutionResult Ok(int ttlSeconds, params int[] lastOctets) =>
        ResolutionResult.Success(lastOctets.Select(i => Pod(i)), TimeSpan.FromSeconds(ttlSeconds));

    public static ResolutionResult Fail(string message = "timed out") => ResolutionResult.Failed(new TimeoutException(message));
}
