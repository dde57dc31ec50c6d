using System.Diagnostics.CodeAnalysis;

namespace Headless.Discovery;

/// <summary>
/// Every headless Service registered with <c>AddHeadlessService</c>, by key. The container's single owner of those
/// services: each is created (with its validated options) on first use, started by the hosted warm-up, and disposed
/// with the container. Thread-safe.
/// </summary>
public interface IHeadlessServiceRegistry
{
    /// <summary>The registered keys, in registration order.</summary>
    IReadOnlyList<string> Keys { get; }

    /// <summary>The live service registered under <paramref name="key"/>, created on first use (not started).</summary>
    /// <param name="key">The key given to <c>AddHeadlessService</c> (case-sensitive).</param>
    /// <returns>The same instance for every call with the same key.</returns>
    /// <exception cref="KeyNotFoundException">No service is registered under <paramref name="key"/>; the message lists the keys.</exception>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">The service's options are invalid; the message names the key and the option.</exception>
    IHeadlessService GetService(string key);

    /// <summary>The live service registered under <paramref name="key"/>, if there is one.</summary>
    /// <param name="key">The key given to <c>AddHeadlessService</c> (case-sensitive).</param>
    /// <param name="service">The service, or <see langword="null"/>.</param>
    /// <returns><see langword="true"/> when <paramref name="key"/> is registered.</returns>
    bool TryGetService(string key, [NotNullWhen(true)] out IHeadlessService? service);

    /// <summary>
    /// The selector configured for <paramref name="key"/> (<see cref="HeadlessServiceRegistrationOptions.Selector"/>),
    /// created on first use and shared: every caller (the HTTP handler, your code) sees the same rotation and lease counts.
    /// </summary>
    /// <param name="key">The key given to <c>AddHeadlessService</c>.</param>
    /// <returns>The same selector for every call with the same key.</returns>
    /// <exception cref="KeyNotFoundException">No service is registered under <paramref name="key"/>.</exception>
    IEndpointSelector GetSelector(string key);
}
