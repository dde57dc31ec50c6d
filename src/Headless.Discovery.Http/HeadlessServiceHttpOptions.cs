namespace Headless.Discovery.Http;

/// <summary>How the HTTP handler of one client maps requests onto the pods of a headless Service.</summary>
public sealed class HeadlessServiceHttpOptions
{
    /// <summary>
    /// The key under which the handler records the pod a request was sent to, in <see cref="HttpRequestMessage.Options"/>
    /// (read it from <c>response.RequestMessage.Options</c>).
    /// </summary>
    public static readonly HttpRequestOptionsKey<PodEndpoint> PodEndpointKey = new("Headless.Discovery.PodEndpoint");

    /// <summary>
    /// The request host that names the service (case-insensitive): <c>http://backend/path</c> is sent to a pod when this
    /// is <c>backend</c>; requests to any other host pass through unchanged. Default: <see langword="null"/>, meaning
    /// the service key.
    /// </summary>
    public string? ServiceHost { get; set; }

    /// <summary>
    /// <see langword="true"/> keeps the request's own authority (<c>backend</c>, or an explicit <c>Host</c> header) as the
    /// <c>Host</c> header (and TLS server name) while the connection goes to the pod's address; <see langword="false"/>
    /// sends the pod's <c>ip:port</c>. Default: <see langword="true"/>.
    /// </summary>
    public bool PreserveHostHeader { get; set; } = true;

    /// <summary>
    /// Decides whether a response counts as a failure for passive health (outlier ejection). Exceptions other than
    /// the caller's own cancellation always count as failures. Default: status code 500 or above.
    /// </summary>
    public Func<HttpResponseMessage, bool> IsFailure { get; set; } = static response => (int)response.StatusCode >= 500;

    /// <summary>
    /// How long the first request waits for the service's first resolution when nothing is resolved yet (after
    /// that a request with no available pod fails at once). Default: 10 seconds. More than zero.
    /// </summary>
    public TimeSpan FirstResolutionTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
