using Headless.Discovery;
using Headless.Discovery.Http;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Sends an <see cref="IHttpClientBuilder"/>'s requests to the pods of a headless Service.</summary>
public static class HeadlessServiceHttpClientBuilderExtensions
{
    /// <summary>
    /// Sends every request whose host names the service (<c>http://&lt;key&gt;/path</c>) to a pod leased from the
    /// service's selector (the keyed <see cref="IEndpointSelector"/>, by default the one named by
    /// <see cref="HeadlessServiceRegistrationOptions.Selector"/>; register your own keyed selector to replace it): the scheme and path are kept, the
    /// host and port become the pod's, the <c>Host</c> header keeps the service name
    /// (<see cref="HeadlessServiceHttpOptions.PreserveHostHeader"/>). The lease is held until the response headers
    /// arrive; its outcome (5xx or an exception = failure) feeds passive health. The handler is added innermost, after
    /// every other handler (e.g. <c>AddStandardResilienceHandler</c>), so each retry picks a pod again. With no pod
    /// available the request fails with an <see cref="HttpRequestException"/> (a transient error to retry policies)
    /// whose inner exception is a <see cref="NoEndpointAvailableException"/>. Registers the service key with
    /// <c>AddHeadlessService</c> if that has not been done.
    /// </summary>
    /// <param name="builder">The HTTP client builder.</param>
    /// <param name="key">The service key given to <c>AddHeadlessService</c>.</param>
    /// <param name="configure">Handler options.</param>
    /// <returns><paramref name="builder"/>.</returns>
    public static IHttpClientBuilder AddHeadlessServiceEndpoints(this IHttpClientBuilder builder, string key, Action<HeadlessServiceHttpOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        var options = new HeadlessServiceHttpOptions();
        configure?.Invoke(options);
        ArgumentNullException.ThrowIfNull(options.IsFailure, nameof(HeadlessServiceHttpOptions.IsFailure));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.FirstResolutionTimeout, TimeSpan.Zero, nameof(HeadlessServiceHttpOptions.FirstResolutionTimeout));

        builder.Services.AddHeadlessService(key);
        builder.ConfigureAdditionalHttpMessageHandlers((handlers, services) =>
        {
            handlers.Add(new HeadlessServiceHttpHandler(
                key,
                services.GetRequiredKeyedService<IHeadlessService>(key),
                services.GetRequiredKeyedService<IEndpointSelector>(key),
                options,
                services.GetService<ILoggerFactory>()?.CreateLogger("Headless.Discovery.Http")));
        });
        return builder;
    }
}
