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

        var failures = new List<string>();
        IConfigurationSection? section = configuration.GetSection(name);
        if (section is not null)
        {
            foreach (string path in HeadlessServiceConfiguration.FindUnknownKeys(section, typeof(HeadlessServiceOptions), typeof(HeadlessServiceRegistrationOptions)))
            {
                failures.Add($"{path}: unknown option (check the spelling; see HeadlessServiceOptions and HeadlessServiceRegistrationOptions).");
            }
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
        return problems.All.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems.All.Select(p => Describe(name, p)));
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
