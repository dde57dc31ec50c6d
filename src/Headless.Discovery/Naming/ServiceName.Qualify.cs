namespace Headless.Discovery;

public sealed partial class ServiceName
{
    /// <summary>
    /// Qualifies a Kubernetes service name the way a pod's resolver would, using the pod's namespace and cluster
    /// domain from <paramref name="environment"/>. DnsClient applies no search list, so names are qualified here, once,
    /// before any query.
    /// </summary>
    /// <remarks>
    /// <para>Rules (<c>&lt;ns&gt;</c> and <c>&lt;domain&gt;</c> come from <see cref="KubernetesDnsEnvironment"/>); leading SRV labels
    /// (<c>_http._tcp.</c>) are kept in front and do not count:</para>
    /// <list type="table">
    /// <item><term>trailing dot (<c>web.example.com.</c>)</term><description>absolute: used as given.</description></item>
    /// <item><term>one label (<c>web</c>, <c>_http._tcp.web</c>)</term><description><c>web.&lt;ns&gt;.svc.&lt;domain&gt;</c>.</description></item>
    /// <item><term>two labels (<c>web.ns</c>)</term><description><c>web.ns.svc.&lt;domain&gt;</c>: the second label is the namespace.</description></item>
    /// <item><term>three labels ending in <c>svc</c> (<c>web.ns.svc</c>)</term><description><c>web.ns.svc.&lt;domain&gt;</c>.</description></item>
    /// <item><term>anything else with three or more labels (<c>db.example.com</c>, <c>web.ns.svc.cluster.local</c>)</term>
    /// <description>absolute: used as given. With Kubernetes' <c>ndots:5</c> a pod's resolver would try the search list
    /// first and then the name as given; for a service name the search list cannot produce a valid Service name from
    /// three or more labels (other than the <c>.svc</c> case above), so we go straight to the name as given. Pod-level
    /// names (<c>web-0.nginx.ns</c>) must therefore be written fully qualified.</description></item>
    /// </list>
    /// <para>
    /// The namespace is read only when a one-label name needs it; when none of the three sources gives one
    /// (<c>POD_NAMESPACE</c>, the service-account namespace file, the search list) an <see cref="InvalidOperationException"/>
    /// is thrown rather than guessing <c>default</c>: outside a cluster a guess would silently query the wrong name.
    /// </para>
    /// <para>Thread-safe.</para>
    /// </remarks>
    /// <param name="name">The name to qualify: <c>headless-nginx</c>, <c>headless-nginx.default</c>, <c>_http._tcp.web</c>, or a fully qualified name.</param>
    /// <param name="environment">Where to read the namespace and cluster domain; <see langword="null"/> for this pod's own (POD_NAMESPACE, the service-account namespace file, /etc/resolv.conf).</param>
    /// <returns>The fully qualified service name.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> (or its qualified form) is not a valid DNS name.</exception>
    /// <exception cref="InvalidOperationException">The name has one label and no namespace can be found; the message names the three places looked at.</exception>
    public static ServiceName Qualify(string name, KubernetesDnsEnvironment? environment = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        string? error = Validate(name);
        if (error is not null)
        {
            throw new ArgumentException(error, nameof(name));
        }

        string trimmed = name.Trim();
        if (trimmed.EndsWith('.'))
        {
            return Parse(trimmed);
        }

        string lower = trimmed.ToLowerInvariant();
        SplitSrvPrefix(lower, out string prefix, out string host);
        if (host.Length == 0)
        {
            // Only SRV labels ("_http._tcp"): nothing to qualify against; take it as given.
            return Parse(lower);
        }

        string[] labels = host.Split('.');
        string? suffix = labels.Length switch
        {
            1 => QualifyNamespace(name, environment ?? KubernetesDnsEnvironment.Default),
            2 => "svc." + (environment ?? KubernetesDnsEnvironment.Default).ClusterDomain,
            3 when labels[2] == "svc" => (environment ?? KubernetesDnsEnvironment.Default).ClusterDomain,
            _ => null,
        };

        if (suffix is null)
        {
            return Parse(lower);
        }

        string qualified = string.Concat(prefix, host, ".", suffix);
        if (!TryParse(qualified, out ServiceName? result, out string? qualifyError))
        {
            throw new ArgumentException($"Qualifying '{name}' gives '{qualified}', which is not a valid DNS name: {qualifyError}", nameof(name));
        }

        return result;
    }

    private static string QualifyNamespace(string name, KubernetesDnsEnvironment environment)
    {
        string? ns = environment.Namespace;
        if (ns is null)
        {
            throw new InvalidOperationException(
                $"Cannot qualify the short service name '{name}': no namespace found. Looked at the environment variable " +
                $"{KubernetesDnsEnvironment.NamespaceEnvironmentVariable}, the file '{environment.NamespaceFilePath}', and a " +
                $"'<namespace>.svc.<domain>' entry in the search list of '{environment.ResolvConfPath}'. Set {KubernetesDnsEnvironment.NamespaceEnvironmentVariable} " +
                "(downward API: fieldRef metadata.namespace) or use a qualified name such as 'name.namespace'.");
        }

        return string.Concat(ns, ".svc.", environment.ClusterDomain);
    }

    /// <summary>Splits leading <c>_service._proto.</c> labels (at most two) from the rest of the name.</summary>
    private static void SplitSrvPrefix(string name, out string prefix, out string host)
    {
        int start = 0;
        for (int i = 0; i < 2 && start < name.Length && name[start] == '_'; i++)
        {
            int dot = name.IndexOf('.', start);
            if (dot < 0)
            {
                start = name.Length;
                break;
            }

            start = dot + 1;
        }

        prefix = name[..start];
        host = name[start..];
    }
}
