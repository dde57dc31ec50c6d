namespace Headless.Discovery.Testing;

/// <summary>
/// The one bound tests put on waits that are expected to end: a guard against a hung test, never a figure an assertion
/// depends on. Use it with <c>WaitAsync</c> on a task that completes when the awaited signal arrives.
/// </summary>
/// <remarks>
/// A test that expects success must not bet on the machine being quiet: only the wait meant to fail gets a short
/// bound; everything else gets this one.
/// </remarks>
public static class TestTimeouts
{
    /// <summary>60 seconds: long enough for any loaded CI machine, short enough that a hung test still fails.</summary>
    public static TimeSpan Generous { get; } = TimeSpan.FromSeconds(60);
}
