using System.Collections.ObjectModel;
using System.Net;
using System.Text;

namespace Headless.Discovery;

/// <summary>
/// What a pod's resolver knows about its surroundings: the pod's namespace, the cluster domain, the resolv.conf
/// search list and name servers. <see cref="ServiceName.Qualify(string, KubernetesDnsEnvironment?)"/> uses it to expand short names.
/// </summary>
/// <remarks>
/// <para>
/// Every source can be given (a resolv.conf, a namespace file, an environment reader), e.g. to qualify names as a pod
/// of another namespace would, or outside a pod; register the instance in DI and <c>AddHeadlessService</c> uses it.
/// What was found is in <see cref="ToString"/>. Missing or unreadable files and garbage lines are ignored, never
/// thrown: an absent source simply contributes nothing.
/// </para>
/// <para>
/// The files and the environment variable are read once, on first use, and cached for
/// the lifetime of the instance (a pod's namespace and resolv.conf do not change while it runs). Thread-safe.
/// </para>
/// </remarks>
public sealed class KubernetesDnsEnvironment
{
    /// <summary>Where the system resolver's configuration lives: <c>/etc/resolv.conf</c>.</summary>
    internal const string DefaultResolvConfPath = "/etc/resolv.conf";

    /// <summary>Where Kubernetes mounts the pod's namespace: <c>/var/run/secrets/kubernetes.io/serviceaccount/namespace</c>.</summary>
    internal const string DefaultNamespaceFilePath = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

    /// <summary>
    /// The environment variable consulted first for the namespace: <c>POD_NAMESPACE</c> (set it with the downward API,
    /// <c>fieldRef: metadata.namespace</c>).
    /// </summary>
    internal const string NamespaceEnvironmentVariable = "POD_NAMESPACE";

    /// <summary>The cluster domain used when the search list names none: <c>cluster.local</c>.</summary>
    internal const string DefaultClusterDomain = "cluster.local";

    // Both files are a few hundred bytes in practice; anything bigger is not what we expect, so read only a prefix.
    private const int MaxFileBytes = 64 * 1024;

    private static readonly Lazy<KubernetesDnsEnvironment> s_default = new(() => new KubernetesDnsEnvironment(), LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly Func<string, string?> _environmentVariableReader;
    private readonly Lazy<Parsed> _parsed;

    /// <summary>Creates an environment reading the given sources.</summary>
    /// <param name="resolvConfPath">The resolv.conf to parse; <see langword="null"/> for <c>/etc/resolv.conf</c>.</param>
    /// <param name="namespaceFilePath">The service-account namespace file; <see langword="null"/> for <c>/var/run/secrets/kubernetes.io/serviceaccount/namespace</c>.</param>
    /// <param name="environmentVariableReader">
    /// Reads an environment variable by name; <see langword="null"/> for <see cref="Environment.GetEnvironmentVariable(string)"/>.
    /// </param>
    public KubernetesDnsEnvironment(string? resolvConfPath = null, string? namespaceFilePath = null, Func<string, string?>? environmentVariableReader = null)
    {
        ResolvConfPath = resolvConfPath ?? DefaultResolvConfPath;
        NamespaceFilePath = namespaceFilePath ?? DefaultNamespaceFilePath;
        _environmentVariableReader = environmentVariableReader ?? Environment.GetEnvironmentVariable;
        _parsed = new Lazy<Parsed>(Load, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The environment of this process, read from the default paths and the real environment variables (cached, shared).</summary>
    internal static KubernetesDnsEnvironment Default => s_default.Value;

    /// <summary>The resolv.conf path this instance reads. Default: <c>/etc/resolv.conf</c>.</summary>
    internal string ResolvConfPath { get; }

    /// <summary>The namespace file path this instance reads. Default: <c>/var/run/secrets/kubernetes.io/serviceaccount/namespace</c>.</summary>
    internal string NamespaceFilePath { get; }

    /// <summary>
    /// The pod's namespace (lower case): the <c>POD_NAMESPACE</c> environment variable (set it with the downward API, <c>fieldRef: metadata.namespace</c>) when set to a valid DNS label, else the
    /// content of the namespace file, else the <c>&lt;ns&gt;.svc.&lt;domain&gt;</c> entry of the search list;
    /// <see langword="null"/> when none of the three gives one.
    /// </summary>
    internal string? Namespace => _parsed.Value.Namespace;

    /// <summary>
    /// The cluster domain (lower case, no trailing dot): <c>&lt;domain&gt;</c> from the <c>svc.&lt;domain&gt;</c> search entry
    /// (or from <c>&lt;ns&gt;.svc.&lt;domain&gt;</c>); <c>cluster.local</c> when the search list has neither.
    /// </summary>
    internal string ClusterDomain => _parsed.Value.ClusterDomain;

    /// <summary>The search list from resolv.conf (the last <c>search</c> or <c>domain</c> line wins, as in glibc), lower case, no trailing dots; invalid entries are skipped.</summary>
    internal IReadOnlyList<string> SearchDomains => _parsed.Value.SearchDomains;

    /// <summary>The <c>nameserver</c> entries from resolv.conf, port 53, in file order; entries that are not IP addresses are skipped.</summary>
    internal IReadOnlyList<IPEndPoint> DnsServers => _parsed.Value.DnsServers;

    /// <summary>A one-line description of the sources and what was found, for logs and error messages.</summary>
    public override string ToString() =>
        $"namespace={Namespace ?? "(none)"}, cluster domain={ClusterDomain}, search=[{string.Join(' ', SearchDomains)}], " +
        $"sources: ${NamespaceEnvironmentVariable}, {NamespaceFilePath}, {ResolvConfPath}";

    private Parsed Load()
    {
        string? resolvConf = ReadFile(ResolvConfPath);
        ParseResolvConf(resolvConf, out List<string> search, out List<IPEndPoint> servers);

        string? clusterDomain = null;
        string? searchNamespace = null;
        foreach (string entry in search)
        {
            // "svc.<domain>" names the domain directly; "<ns>.svc.<domain>" names the namespace too.
            if (clusterDomain is null && entry.StartsWith("svc.", StringComparison.Ordinal) && entry.Length > 4)
            {
                clusterDomain = entry[4..];
            }

            int svc = entry.IndexOf(".svc.", StringComparison.Ordinal);
            if (searchNamespace is null && svc > 0 && entry.IndexOf('.') == svc && entry.Length > svc + 5)
            {
                searchNamespace = entry[..svc];
                clusterDomain ??= entry[(svc + 5)..];
            }
        }

        string? ns = NormalizeNamespace(SafeReadEnvironment(NamespaceEnvironmentVariable))
            ?? NormalizeNamespace(ReadFile(NamespaceFilePath))
            ?? searchNamespace;

        return new Parsed(
            ns,
            clusterDomain ?? DefaultClusterDomain,
            new ReadOnlyCollection<string>(search),
            new ReadOnlyCollection<IPEndPoint>(servers));
    }

    private string? SafeReadEnvironment(string name)
    {
        try
        {
            return _environmentVariableReader(name);
        }
        catch (System.Security.SecurityException)
        {
            return null;
        }
    }

    /// <summary>Parses resolv.conf text: <c>nameserver</c>, <c>search</c> and <c>domain</c> lines; comments, options and garbage are ignored.</summary>
    internal static void ParseResolvConf(string? text, out List<string> search, out List<IPEndPoint> servers)
    {
        search = [];
        servers = [];
        if (string.IsNullOrEmpty(text))
        {
            return;
        }

        foreach (string rawLine in text.Split('\n'))
        {
            string line = rawLine;
            int comment = line.AsSpan().IndexOfAny('#', ';');
            if (comment >= 0)
            {
                line = line[..comment];
            }

            string[] tokens = line.Split([' ', '\t', '\r', '\f', '\v'], StringSplitOptions.RemoveEmptyEntries);
            if (tokens.Length < 2)
            {
                continue;
            }

            switch (tokens[0])
            {
                case "nameserver":
                    if (IPAddress.TryParse(tokens[1], out IPAddress? address))
                    {
                        servers.Add(new IPEndPoint(address, 53));
                    }

                    break;

                case "search":
                case "domain":
                    // As in glibc, the last search or domain line replaces whatever came before.
                    search = [];
                    for (int i = 1; i < tokens.Length; i++)
                    {
                        string entry = tokens[i].TrimEnd('.').ToLowerInvariant();
                        if (entry.Length > 0 && ServiceName.Validate(entry) is null && !search.Contains(entry))
                        {
                            search.Add(entry);
                        }
                    }

                    break;
            }
        }
    }

    /// <summary>A namespace is one DNS label; anything else (empty, dotted, garbage) counts as absent.</summary>
    internal static string? NormalizeNamespace(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        string ns = value.Trim().ToLowerInvariant();
        if (ns.Contains('.', StringComparison.Ordinal) || ns.StartsWith('_') || ServiceName.Validate(ns) is not null)
        {
            return null;
        }

        return ns;
    }

    private static string? ReadFile(string path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return null;
        }

        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 1, FileOptions.None);
            byte[] buffer = new byte[MaxFileBytes];
            int total = 0;
            int read;
            while (total < buffer.Length && (read = stream.Read(buffer, total, buffer.Length - total)) > 0)
            {
                total += read;
            }

            return Encoding.UTF8.GetString(buffer, 0, total);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException or System.Security.SecurityException)
        {
            return null;
        }
    }

    private sealed record Parsed(string? Namespace, string ClusterDomain, IReadOnlyList<string> SearchDomains, IReadOnlyList<IPEndPoint> DnsServers);
}
