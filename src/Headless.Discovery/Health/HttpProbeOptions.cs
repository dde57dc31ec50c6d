namespace Headless.Discovery;

/// <summary>
/// How an HTTP probe talks to a pod and judges its answer. What it requests (scheme and path) is the probe
/// spec — <see cref="ActiveHealthOptions.Probe"/> or <see cref="EndpointProbes.Create"/> (<c>http:/healthz</c>,
/// <c>https:/ready</c>) — never an option here. Every option has a default; validation names every bad one.
/// </summary>
public sealed class HttpProbeOptions
{
    /// <summary>
    /// Accept any server certificate over HTTPS (pods often serve self-signed ones). Default: <see langword="false"/>:
    /// the certificate must be valid for the SNI name.
    /// </summary>
    public bool AcceptAnyServerCertificate { get; set; }

    /// <summary>
    /// The <c>Host</c> header (and TLS server name). Default: <see langword="null"/>: the pod's hostname when known, else
    /// <c>address:port</c>.
    /// </summary>
    public string? Host { get; set; }

    /// <summary>The lowest status code that counts as healthy, 100 to 599. Default: 200.</summary>
    public int MinHealthyStatus { get; set; } = 200;

    /// <summary>
    /// The highest status code that counts as healthy, 100 to 599. Default: 399 (like Kubernetes: a redirect is judged by
    /// its status, never followed).
    /// </summary>
    public int MaxHealthyStatus { get; set; } = 399;

    /// <summary>The most response-body bytes read (then discarded), 0 to 1 MiB. Default: 4096.</summary>
    public int MaxResponseBodyBytes { get; set; } = 4096;

    /// <summary>Copies every option into <paramref name="target"/>.</summary>
    internal void CopyTo(HttpProbeOptions target)
    {
        target.AcceptAnyServerCertificate = AcceptAnyServerCertificate;
        target.Host = Host;
        target.MinHealthyStatus = MinHealthyStatus;
        target.MaxHealthyStatus = MaxHealthyStatus;
        target.MaxResponseBodyBytes = MaxResponseBodyBytes;
    }

    /// <summary>Checks every option; throws one <see cref="InvalidOptionsException"/> listing every bad one.</summary>
    internal void Validate()
    {
        var problems = new OptionProblems();
        Collect(problems);
        problems.ThrowIfAny("options");
    }

    /// <summary>Adds every problem of these options to <paramref name="problems"/>.</summary>
    internal void Collect(OptionProblems problems)
    {
        if (Host is not null && (Host.Length == 0 || Host.Length > 255 || Host.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '/' or '@')))
        {
            problems.Add(nameof(Host), $"'{Host}' must be a host name with an optional :port.");
        }

        problems.Range(MinHealthyStatus, 100, 599, nameof(MinHealthyStatus));
        if (MaxHealthyStatus is < 100 or > 599 || MaxHealthyStatus < MinHealthyStatus)
        {
            problems.Add(nameof(MaxHealthyStatus), $"{MaxHealthyStatus} must be between {nameof(MinHealthyStatus)} ({MinHealthyStatus}) and 599.");
        }

        problems.Range(MaxResponseBodyBytes, 0, 1024 * 1024, nameof(MaxResponseBodyBytes));
    }

    /// <summary>Why <paramref name="path"/> is not a usable probe path, or <see langword="null"/>.</summary>
    internal static string? ValidatePath(string? path)
    {
        if (string.IsNullOrEmpty(path) || path[0] != '/')
        {
            return $"'{path}' must start with '/'.";
        }

        if (path.Length > 2048)
        {
            return "must be at most 2048 characters.";
        }

        if (path.StartsWith("//", StringComparison.Ordinal) || path.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c == '#'))
        {
            return "must be an absolute path without spaces, control characters or a fragment.";
        }

        return null;
    }
}
