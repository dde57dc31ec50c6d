using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Headless.Discovery;

/// <summary>
/// Validates the named options of every registered key, with messages that name the configuration path of the bad
/// option, e.g. <c>HeadlessDiscovery:Services:backend:MinRefreshInterval: …</c>.
/// </summary>
internal sealed class HeadlessServiceOptionsValidator(IServiceProvider services, HeadlessServiceKeys keys, HeadlessServiceConfiguration configuration)
    : IValidateOptions<HeadlessServiceOptions>, IValidateOptions<HeadlessServiceRegistrationOptions>
{
    public ValidateOptionsResult Validate(string? name, HeadlessServiceOptions options)
    {
        if (name is null || !keys.Contains(name))
        {
            return ValidateOptionsResult.Skip;
        }

        var failures = new List<string>(configuration.DurationProblems(name, typeof(HeadlessServiceOptions)));
        IConfigurationSection? section = configuration.GetSection(name);
        if (section is not null)
        {
            foreach (string path in HeadlessServiceConfiguration.FindUnknownKeys(section, typeof(HeadlessServiceOptions), typeof(HeadlessServiceRegistrationOptions)))
            {
                failures.Add($"{path}: unknown option (check the spelling; see HeadlessServiceOptions and HeadlessServiceRegistrationOptions).");
            }
        }

        if (string.IsNullOrWhiteSpace(options.Name) && section is null)
        {
            // Nothing names this service, in configuration or in code: most likely a typo'd key (for example in
            // AddHeadlessServiceEndpoints, which registers the key it is given). Say so rather than "Name is required".
            failures.Add(NotRegistered(name));
            return ValidateOptionsResult.Fail(failures);
        }

        var problems = new OptionProblems();
        options.Collect(problems);
        failures.AddRange(problems.All.Select(p => Describe(name, p)));
        if (!problems.All.Any(p => p.Path == nameof(HeadlessServiceOptions.Name)))
        {
            try
            {
                ServiceName.Qualify(options.Name!, services.GetService<KubernetesDnsEnvironment>());
            }
            catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
            {
                // Qualifying a short name needs the pod's namespace, and the qualified name must still be a DNS name.
                failures.Add($"{HeadlessServiceConfiguration.SectionPath(name)}:{nameof(HeadlessServiceOptions.Name)}: {ex.Message}");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    public ValidateOptionsResult Validate(string? name, HeadlessServiceRegistrationOptions options)
    {
        if (name is null || !keys.Contains(name))
        {
            return ValidateOptionsResult.Skip;
        }

        var problems = new OptionProblems();
        options.Collect(problems);
        string[] failures = [.. configuration.DurationProblems(name, typeof(HeadlessServiceRegistrationOptions)), .. problems.All.Select(p => Describe(name, p))];
        return failures.Length == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>
    /// <c>HeadlessDiscovery:Services:backnd: no headless service 'backnd' is registered; registered: backend (did you
    /// mean 'backend'?)</c>: the keys listed are those whose options name a service, in configuration or code.
    /// </summary>
    private string NotRegistered(string key)
    {
        string[] named = [.. keys.Snapshot().Where(k => k != key && IsNamed(k))];
        string? closest = EditDistance.Closest(key, named);
        return $"{HeadlessServiceConfiguration.SectionPath(key)}: no headless service '{key}' is registered; registered: "
            + (named.Length == 0 ? "none" : string.Join(", ", named))
            + (closest is null ? "." : $" (did you mean '{closest}'?).")
            + $" Give it a Name in configuration ({HeadlessServiceConfiguration.SectionPath(key)}:Name) or in AddHeadlessService(\"{key}\", o => o.Name = …).";
    }

    /// <summary>Whether configuration or code gives <paramref name="key"/> a service name (its options built without validation).</summary>
    private bool IsNamed(string key)
    {
        if (configuration.GetSection(key)?[nameof(HeadlessServiceOptions.Name)] is { Length: > 0 })
        {
            return true;
        }

        var options = new HeadlessServiceOptions();
        foreach (IConfigureOptions<HeadlessServiceOptions> configure in services.GetServices<IConfigureOptions<HeadlessServiceOptions>>())
        {
            if (configure is IConfigureNamedOptions<HeadlessServiceOptions> named)
            {
                named.Configure(key, options);
            }
            else
            {
                configure.Configure(options);
            }
        }

        return !string.IsNullOrWhiteSpace(options.Name);
    }

    /// <summary>
    /// <c>HeadlessDiscovery:Services:&lt;key&gt;:&lt;configuration key&gt;: &lt;message&gt;</c>. The configuration key is the
    /// problem's path with sections joined by <c>:</c> and list entries as <c>:index</c> (<c>ActiveHealth.Interval</c> →
    /// <c>ActiveHealth:Interval</c>, <c>DnsServers[1]</c> → <c>DnsServers:1</c>), as the configuration binder reads them.
    /// </summary>
    internal static string Describe(string key, OptionProblem problem) =>
        $"{HeadlessServiceConfiguration.SectionPath(key)}:{ConfigurationKey(problem.Path)}: {problem.Message}";

    /// <summary>The configuration key of an option path.</summary>
    internal static string ConfigurationKey(string path) =>
        path.Replace('.', ':').Replace("[", ":", StringComparison.Ordinal).Replace("]", string.Empty, StringComparison.Ordinal);
}
