using CsCheck;
using Headless.Discovery.TestSupport;

namespace Headless.Discovery.Tests.Options;

/// <summary>Validation lists every invalid option at once, each once, by its path; the constructor throws the same list.</summary>
public class EveryProblemAtOnceTests
{
    /// <summary>One way to break each option, independent of the others (breaking one never makes another invalid).</summary>
    private static readonly (string Path, Action<HeadlessServiceOptions> Break)[] Breakers =
    [
        ("Name", o => o.Name = "a..b"),
        ("DnsServers[0]", o => o.DnsServers.Add("not-an-ip")),
        ("Port", o => o.Port = -1),
        ("DnsAttemptTimeout", o => o.DnsAttemptTimeout = TimeSpan.FromTicks(1)),
        ("DnsRetryCount", o => o.DnsRetryCount = 11),
        ("MaxEndpoints", o => o.MaxEndpoints = 0),
        ("MinRefreshInterval", o => o.MinRefreshInterval = TimeSpan.FromTicks(1)),
        ("MaxRefreshInterval", o => o.MaxRefreshInterval = TimeSpan.FromDays(2)),
        ("RefreshJitter", o => o.RefreshJitter = double.NaN),
        ("FailureBackoffBase", o => o.FailureBackoffBase = TimeSpan.FromTicks(1)),
        ("FailureBackoffMax", o => o.FailureBackoffMax = TimeSpan.FromDays(2)),
        ("MaxStaleness", o => o.MaxStaleness = TimeSpan.FromSeconds(-5)),
        ("EmptyAnswerConfirmations", o => o.EmptyAnswerConfirmations = 0),
        ("PanicThreshold", o => o.PanicThreshold = 101),
        ("ActiveHealth.Probe", o => o.ActiveHealth.Probe = "ftp:/x"),
        ("ActiveHealth.Interval", o => o.ActiveHealth.Interval = TimeSpan.FromMilliseconds(99)),
        ("ActiveHealth.Timeout", o => o.ActiveHealth.Timeout = TimeSpan.FromTicks(1)),
        ("ActiveHealth.HealthyThreshold", o => o.ActiveHealth.HealthyThreshold = 0),
        ("ActiveHealth.UnhealthyThreshold", o => o.ActiveHealth.UnhealthyThreshold = 101),
        ("ActiveHealth.MaxConcurrentProbes", o => o.ActiveHealth.MaxConcurrentProbes = 0),
        ("ActiveHealth.InitialJitter", o => o.ActiveHealth.InitialJitter = TimeSpan.FromSeconds(-1)),
        ("ActiveHealth.IntervalJitter", o => o.ActiveHealth.IntervalJitter = 0.6),
        ("ActiveHealth.Http.Host", o => o.ActiveHealth.Http.Host = "a b"),
        ("ActiveHealth.Http.MinHealthyStatus", o => o.ActiveHealth.Http.MinHealthyStatus = 99),
        ("ActiveHealth.Http.MaxResponseBodyBytes", o => o.ActiveHealth.Http.MaxResponseBodyBytes = -1),
        ("PassiveHealth.ConsecutiveFailures", o => o.PassiveHealth.ConsecutiveFailures = 0),
        ("PassiveHealth.BaseEjectionTime", o => o.PassiveHealth.BaseEjectionTime = TimeSpan.FromTicks(1)),
        ("PassiveHealth.MaxEjectionTime", o => o.PassiveHealth.MaxEjectionTime = TimeSpan.FromDays(2)),
        ("PassiveHealth.MaxEjectionPercent", o => o.PassiveHealth.MaxEjectionPercent = -1),
    ];

    private static HeadlessServiceOptions Valid() => new() { Name = "web.default.svc.cluster.local" };

    [Fact]
    public void Every_combination_of_invalid_options_is_named_in_one_error_each_once()
    {
        Property.ForAll(
            Gen.Bool.Array[Breakers.Length],
            iterations: 300,
            seed: 12,
            broken =>
            {
                HeadlessServiceOptions options = Valid();
                string[] expected = [.. Breakers.Where((_, i) => broken[i]).Select(b => b.Path)];
                foreach ((_, Action<HeadlessServiceOptions> breakIt) in Breakers.Where((_, i) => broken[i]))
                {
                    breakIt(options);
                }

                if (expected.Length == 0)
                {
                    options.Validate();
                    return;
                }

                InvalidOptionsException fromValidate = Assert.Throws<InvalidOptionsException>(options.Validate);
                InvalidOptionsException fromConstructor = Assert.Throws<InvalidOptionsException>(() => new HeadlessService(options));
                foreach (InvalidOptionsException ex in new[] { fromValidate, fromConstructor })
                {
                    Assert.Equal(expected.Order(StringComparer.Ordinal), ex.Problems.Select(p => p.Path).Order(StringComparer.Ordinal));
                    string[] lines = ex.Message.Split(Environment.NewLine);
                    Assert.Equal(expected.Length, lines.Length);
                    Assert.All(expected, path => Assert.Single(lines, l => l.StartsWith(path + ": ", StringComparison.Ordinal)));
                }
            },
            print: broken => string.Join(", ", Breakers.Where((_, i) => broken[i]).Select(b => b.Path)));
    }

    [Fact]
    public void The_documented_floors_hold_at_their_edges()
    {
        HeadlessServiceOptions atFloor = Valid();
        atFloor.MinRefreshInterval = TimeSpan.FromMilliseconds(100);
        atFloor.ActiveHealth.Interval = TimeSpan.FromMilliseconds(100);
        atFloor.PassiveHealth.BaseEjectionTime = TimeSpan.FromMilliseconds(100);
        atFloor.ActiveHealth.Timeout = TimeSpan.FromMilliseconds(10);
        atFloor.DnsAttemptTimeout = TimeSpan.FromMilliseconds(10);
        atFloor.FailureBackoffBase = TimeSpan.FromMilliseconds(10);
        atFloor.Validate();

        HeadlessServiceOptions below = Valid();
        below.MinRefreshInterval = TimeSpan.FromMilliseconds(100) - TimeSpan.FromTicks(1);
        below.ActiveHealth.Interval = TimeSpan.FromMilliseconds(100) - TimeSpan.FromTicks(1);
        below.PassiveHealth.BaseEjectionTime = TimeSpan.FromMilliseconds(100) - TimeSpan.FromTicks(1);
        below.ActiveHealth.Timeout = TimeSpan.FromMilliseconds(10) - TimeSpan.FromTicks(1);
        below.DnsAttemptTimeout = TimeSpan.FromMilliseconds(10) - TimeSpan.FromTicks(1);
        below.FailureBackoffBase = TimeSpan.FromMilliseconds(10) - TimeSpan.FromTicks(1);
        InvalidOptionsException ex = Assert.Throws<InvalidOptionsException>(below.Validate);
        Assert.Equal(6, ex.Problems.Count);
        Assert.All(ex.Problems, p => Assert.Contains("below the floor", p.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void The_other_options_types_list_every_problem_too()
    {
        var connections = new ConnectionSetOptions { ConnectTimeout = TimeSpan.Zero, InitialBackoff = TimeSpan.FromSeconds(2), MaxBackoff = TimeSpan.FromSeconds(1) };
        Assert.Equal(["ConnectTimeout", "MaxBackoff"], Assert.Throws<InvalidOptionsException>(connections.Validate).Problems.Select(p => p.Path));

        var fanOut = new FanOutOptions { Mode = null!, MaxParallelism = 0, PerPodTimeout = TimeSpan.Zero, Deadline = TimeSpan.FromDays(50) };
        Assert.Equal(["Mode", "MaxParallelism", "PerPodTimeout", "Deadline"], Assert.Throws<InvalidOptionsException>(fanOut.Validate).Problems.Select(p => p.Path));

        var resolver = new DnsEndpointResolverOptions { DnsRetryBaseDelay = TimeSpan.FromMinutes(2), Port = 70000 };
        resolver.DnsServers.Add("127.0.0.1");
        resolver.DnsServers.Add("0.0.0.0");
        Assert.Equal(["DnsServers[1]", "Port", "DnsRetryBaseDelay"], Assert.Throws<InvalidOptionsException>(() => new DnsResolver(resolver)).Problems.Select(p => p.Path));

        // The public resolver reads the DNS options of the service options: every DNS problem, by Validate's paths, and
        // nothing it does not read (no name is required, refresh options are not its concern).
        var service = new HeadlessServiceOptions { Port = 70000, DnsRetryCount = 11, MinRefreshInterval = TimeSpan.Zero };
        service.DnsServers.Add("0.0.0.0");
        Assert.Equal(["DnsServers[0]", "Port", "DnsRetryCount"], Assert.Throws<InvalidOptionsException>(() => new DnsEndpointResolver(service)).Problems.Select(p => p.Path));
        Assert.Equal(
            ["Name", "DnsServers[0]", "Port", "DnsRetryCount"],
            Assert.Throws<InvalidOptionsException>(service.Validate).Problems.Select(p => p.Path).Where(p => !p.EndsWith("RefreshInterval", StringComparison.Ordinal)));

        var http = new HttpProbeOptions { MaxHealthyStatus = 600 };
        Assert.Equal(["spec", "http.MaxHealthyStatus"], Assert.Throws<InvalidOptionsException>(() => EndpointProbes.Create("http:healthz", http)).Problems.Select(p => p.Path));
        OptionProblem none = Assert.Single(Assert.Throws<InvalidOptionsException>(() => EndpointProbes.Create("none")).Problems);
        Assert.Equal("spec", none.Path);
        Assert.StartsWith("'none' turns active checks off; it is not a probe", none.Message, StringComparison.Ordinal);
        Assert.Contains("not a probe", Assert.Throws<InvalidOptionsException>(() => EndpointProbes.Create("ftp:/x")).Message, StringComparison.Ordinal);
        Assert.Equal("tcp", EndpointProbes.Create("TCP").ToString());
        using (var made = (IDisposable)EndpointProbes.Create("https:/ready", http: new HttpProbeOptions { MaxHealthyStatus = 299 }))
        {
            Assert.Equal("https:/ready", made.ToString());
        }

        var registration = new HeadlessServiceRegistrationOptions { Selector = "Fastest", MinEndpoints = -1, StartupTimeout = TimeSpan.Zero };
        var problems = new OptionProblems();
        registration.Collect(problems);
        Assert.Equal(["Selector", "MinEndpoints", "StartupTimeout"], problems.All.Select(p => p.Path));
    }
}
