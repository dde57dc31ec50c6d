namespace Headless.Discovery;

/// <summary>
/// Every headless Service registered with <c>AddHeadlessService</c>, by key. The container's single owner of those
/// services: each is created (with its validated options) on first use, started by the hosted warm-up, and disposed
/// with the container. Thread-safe. Each service is also a keyed singleton: <c>[FromKeyedServices("key")]
/// IHeadlessService</c>, and its configured selector (<see cref="HeadlessServiceRegistrationOptions.Selector"/>, shared
/// by the HTTP handler and your code) is <c>[FromKeyedServices("key")] IEndpointSelector</c>.
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

}
