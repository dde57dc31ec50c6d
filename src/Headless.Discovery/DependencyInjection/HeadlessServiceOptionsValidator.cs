using System.Globalization;
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

        try
        {
            options.Validate();
            ServiceName.Qualify(options.Name!, services.GetService<KubernetesDnsEnvironment>());
        }
        catch (ArgumentException ex)
        {
            failures.Add(Describe(name, ex));
        }
        catch (InvalidOperationException ex)
        {
            // Qualifying a short name needs the pod's namespace.
            failures.Add($"{HeadlessServiceConfiguration.SectionPath(name)}:{nameof(HeadlessServiceOptions.Name)}: {ex.Message}");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    public ValidateOptionsResult Validate(string? name, HeadlessServiceRegistrationOptions options)
    {
        if (name is null || !keys.Contains(name))
        {
            return ValidateOptionsResult.Skip;
        }

        try
        {
            options.Validate();
            return ValidateOptionsResult.Success;
        }
        catch (ArgumentException ex)
        {
            return ValidateOptionsResult.Fail(Describe(name, ex));
        }
    }

    /// <summary><c>HeadlessDiscovery:Services:&lt;key&gt;:&lt;Option&gt;: &lt;message&gt;</c>, without .NET's "(Parameter …)" suffix.</summary>
    internal static string Describe(string key, ArgumentException ex)
    {
        string message = ex.Message;
        string? option = ex.ParamName;
        if (option is not null)
        {
            string suffix = $" (Parameter '{option}')";
            if (message.EndsWith(suffix, StringComparison.Ordinal))
            {
                message = message[..^suffix.Length];
            }
        }

        // Nested options name themselves in the message ("Health.Interval = …") with the bare property as ParamName.
        if (option is not null)
        {
            int end = message.IndexOfAny([' ', ':']);
            string first = end < 0 ? message : message[..end];
            if (first.Contains('.', StringComparison.Ordinal) && first.EndsWith("." + option, StringComparison.Ordinal))
            {
                option = first;
            }
        }

        // A list entry names its index ("DnsServers[1] = …"): its configuration path is DnsServers:1.
        if (option is not null && message.StartsWith(option + "[", StringComparison.Ordinal))
        {
            int close = message.IndexOf(']', option.Length);
            if (close > option.Length + 1 && int.TryParse(message.AsSpan(option.Length + 1, close - option.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out int index))
            {
                option = $"{option}:{index.ToString(CultureInfo.InvariantCulture)}";
            }
        }

        string path = HeadlessServiceConfiguration.SectionPath(key);
        return string.IsNullOrEmpty(option)
            ? $"{path}: {message}"
            : $"{path}:{option.Replace('.', ':')}: {message}";
    }
}
