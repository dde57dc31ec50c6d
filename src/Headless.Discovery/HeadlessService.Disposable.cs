namespace Headless.Discovery;

/// <summary>Synchronous disposal, for containers and callers that dispose synchronously.</summary>
public sealed partial class HeadlessService : IDisposable
{
    /// <summary>
    /// Disposes synchronously: blocks until <see cref="DisposeAsync"/> completes (the timer is stopped and an in-flight
    /// refresh has finished). Prefer <see cref="DisposeAsync"/>; this exists so a dependency-injection container disposed
    /// with <c>Dispose()</c> can release the service. Idempotent, thread-safe.
    /// </summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
