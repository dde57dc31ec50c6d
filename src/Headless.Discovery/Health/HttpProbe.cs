using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Http;
using System.Net.Security;
using System.Net.Sockets;

namespace Headless.Discovery;

/// <summary>
/// Probes a pod with an HTTP <c>GET</c> of a path on its address and port: healthy when the status code is within
/// [<see cref="HttpProbeOptions.MinHealthyStatus"/>, <see cref="HttpProbeOptions.MaxHealthyStatus"/>] (default 200-399).
/// Like a Kubernetes <c>httpGet</c> probe.
/// </summary>
/// <remarks>
/// <para>
/// Redirects are never followed: a 3xx is judged by its status alone. Each probe opens a fresh connection
/// (<c>Connection: close</c>), so a stopped or restarted pod is noticed by the next probe rather than hidden behind a
/// pooled connection. No proxy, no cookies, no decompression; at most
/// <see cref="HttpProbeOptions.MaxResponseBodyBytes"/> of the body are read and discarded. Over HTTPS the TLS server
/// name (SNI) is the pod's hostname when known. Errors name the status or the socket error, never the URL.
/// </para>
/// <para>Thread-safe: one instance serves every pod. Dispose it to release its handler.</para>
/// </remarks>
internal sealed class HttpProbe : IEndpointProbe, IDisposable
{
    private readonly HttpMessageInvoker _client;
    private readonly HttpProbeOptions _options;
    private readonly string _path;
    private readonly string _scheme;
    private readonly int _defaultPort;

    /// <summary>Creates an HTTP probe of <paramref name="path"/>.</summary>
    /// <param name="path">The path (and optional query) to GET; must start with <c>/</c>. Default: <c>/</c>.</param>
    /// <param name="useHttps">
    /// Use HTTPS. The TLS server name (SNI) is the pod's hostname when known (SRV answers), else
    /// <see cref="HttpProbeOptions.Host"/>, else the address. Default: <see langword="false"/>.
    /// </param>
    /// <param name="options">How to talk to the pod and what counts as healthy. Default: 200-399, 4 KiB of body.</param>
    /// <exception cref="InvalidOptionsException">The path or an option is invalid; every problem is named at once.</exception>
    public HttpProbe(string path = "/", bool useHttps = false, HttpProbeOptions? options = null)
    {
        var problems = new OptionProblems();
        if (HttpProbeOptions.ValidatePath(path) is { } pathError)
        {
            problems.Add(nameof(path), pathError);
        }

        _options = new HttpProbeOptions();
        (options ?? _options).Collect(problems);
        problems.ThrowIfAny(nameof(options));
        options?.CopyTo(_options);
        _path = path;
        _scheme = useHttps ? Uri.UriSchemeHttps : Uri.UriSchemeHttp;
        _defaultPort = useHttps ? 443 : 80;

        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionLifetime = TimeSpan.Zero,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(1),
            MaxResponseHeadersLength = 64,
            MaxResponseDrainSize = 0,
        };
        if (_options.AcceptAnyServerCertificate)
        {
#pragma warning disable CA5359 // Opt-in (AcceptAnyServerCertificate): pods commonly serve self-signed certificates; a probe sends no secrets.
            handler.SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = static (_, _, _, _) => true };
#pragma warning restore CA5359
        }

        _client = new HttpMessageInvoker(handler, disposeHandler: true);
    }

    /// <summary>The options in use (a copy; changing it has no effect).</summary>
    internal HttpProbeOptions Options => _options;

    /// <inheritdoc/>
    public async ValueTask<ProbeResult> ProbeAsync(PodEndpoint endpoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (endpoint.Port == 0)
        {
            // Port 0 means "unknown"; probing port 80 or 443 instead would check something else.
            return ProbeResult.Unhealthy("the endpoint has no port (set a port, or resolve SRV records)");
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, BuildUri(endpoint))
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
        request.Headers.ConnectionClose = true;
        request.Headers.TryAddWithoutValidation("User-Agent", "Headless.Discovery-probe");
        string? host = HostHeader(endpoint);
        if (host is not null)
        {
            // SocketsHttpHandler also takes the TLS server name (SNI) from the Host header.
            request.Headers.Host = host;
        }

        try
        {
            using HttpResponseMessage response = await _client.SendAsync(request, cancellationToken).ConfigureAwait(false);
            int status = (int)response.StatusCode;
            if (_options.MaxResponseBodyBytes > 0)
            {
                await DrainAsync(response, _options.MaxResponseBodyBytes, cancellationToken).ConfigureAwait(false);
            }

            return status >= _options.MinHealthyStatus && status <= _options.MaxHealthyStatus
                ? ProbeResult.Healthy()
                : ProbeResult.Unhealthy(string.Create(CultureInfo.InvariantCulture, $"HTTP {status} is outside {_options.MinHealthyStatus}-{_options.MaxHealthyStatus}"));
        }
        catch (HttpRequestException ex)
        {
            return ProbeResult.Failed(ex);
        }
        catch (IOException ex)
        {
            return ProbeResult.Failed(ex);
        }
        catch (SocketException ex)
        {
            return ProbeResult.Failed(ex);
        }
    }

    private Uri BuildUri(PodEndpoint endpoint)
    {
        string address = endpoint.Address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{endpoint.Address}]" : endpoint.Address.ToString();
        return new Uri(string.Create(CultureInfo.InvariantCulture, $"{_scheme}://{address}:{endpoint.Port}{_path}"), UriKind.Absolute);
    }

    /// <summary>The Host header: the configured one, else the pod hostname (with a non-default port), else none (address:port).</summary>
    internal string? HostHeader(PodEndpoint endpoint)
    {
        if (_options.Host is not null)
        {
            return _options.Host;
        }

        if (endpoint.Hostname is null)
        {
            return null;
        }

        return endpoint.Port == _defaultPort
            ? endpoint.Hostname
            : string.Create(CultureInfo.InvariantCulture, $"{endpoint.Hostname}:{endpoint.Port}");
    }

    private static async Task DrainAsync(HttpResponseMessage response, int limit, CancellationToken cancellationToken)
    {
        Stream body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (body.ConfigureAwait(false))
        {
            byte[] buffer = ArrayPool<byte>.Shared.Rent(Math.Min(limit, 4096));
            try
            {
                int total = 0;
                while (total < limit)
                {
                    int read = await body.ReadAsync(buffer.AsMemory(0, Math.Min(buffer.Length, limit - total)), cancellationToken).ConfigureAwait(false);
                    if (read == 0)
                    {
                        break;
                    }

                    total += read;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    /// <summary>Releases the HTTP handler. Probes started afterwards fail.</summary>
    public void Dispose() => _client.Dispose();

    /// <summary>Returns <c>http:&lt;path&gt;</c> or <c>https:&lt;path&gt;</c> without the query string.</summary>
    public override string ToString()
    {
        int query = _path.IndexOf('?', StringComparison.Ordinal);
        return $"{_scheme}:{(query < 0 ? _path : _path[..query])}";
    }
}
