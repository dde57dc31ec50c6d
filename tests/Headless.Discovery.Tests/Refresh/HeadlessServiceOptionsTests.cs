using Headless.Discovery;

namespace Headless.Discovery.Tests.Refresh;

public sealed class HeadlessServiceOptionsTests
{
    private static HeadlessServiceOptions Valid() => new() { Name = "web.default.svc.cluster.local" };

    [Fact]
    public void Defaults_are_valid_and_documented_values()
    {
        HeadlessServiceOptions o = Valid();
        o.Validate();
        Assert.Equal(TimeSpan.FromSeconds(1), o.MinRefreshInterval);
        Assert.Equal(TimeSpan.FromSeconds(30), o.MaxRefreshInterval);
        Assert.Equal(0.1, o.RefreshJitter);
        Assert.Equal(Timeout.InfiniteTimeSpan, o.MaxStaleness);
        Assert.Equal(3, o.EmptyAnswerConfirmations);
        Assert.Equal(DnsAddressFamily.IPv4, o.AddressFamily);
        Assert.Equal(5000, o.MaxEndpoints);
    }

    public static TheoryData<string, Action<HeadlessServiceOptions>> BadOptions() => new()
    {
        { "Name", o => o.Name = null },
        { "Name", o => o.Name = "bad..name" },
        { "Name", o => o.Name = "under_score-in-host!" },
        { "Port", o => o.Port = 70000 },
        { "NameServers[0]", o => o.DnsServers.Add("not-an-ip") },
        { "AttemptTimeout", o => o.DnsAttemptTimeout = TimeSpan.Zero },
        { "RetryCount", o => o.DnsRetryCount = -1 },
        { "MaxEndpoints", o => o.MaxEndpoints = 0 },
        { "MinRefreshInterval", o => o.MinRefreshInterval = TimeSpan.Zero },
        { "MinRefreshInterval", o => o.MinRefreshInterval = TimeSpan.FromMinutes(5) },
        { "MaxRefreshInterval", o => o.MaxRefreshInterval = TimeSpan.FromSeconds(-1) },
        { "RefreshJitter", o => o.RefreshJitter = 0.9 },
        { "RefreshJitter", o => o.RefreshJitter = double.NaN },
        { "FailureBackoffBase", o => o.FailureBackoffBase = TimeSpan.FromMinutes(2) },
        { "FailureBackoffMax", o => o.FailureBackoffMax = TimeSpan.Zero },
        { "MaxStaleness", o => o.MaxStaleness = TimeSpan.FromSeconds(-5) },
        { "EmptyAnswerConfirmations", o => o.EmptyAnswerConfirmations = 0 },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void Invalid_options_fail_with_a_message_naming_the_option(string option, Action<HeadlessServiceOptions> breakIt)
    {
        HeadlessServiceOptions o = Valid();
        breakIt(o);
        ArgumentException ex = Assert.ThrowsAny<ArgumentException>(o.Validate);
        Assert.Contains(option, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_service_constructor_validates_refresh_options()
    {
        var options = new HeadlessServiceOptions { RefreshJitter = 2 };
        ArgumentException ex = Assert.ThrowsAny<ArgumentException>(() =>
            new HeadlessService(ServiceName.Parse("a.b"), new ScriptedResolver(), options));
        Assert.Contains("RefreshJitter", ex.Message, StringComparison.Ordinal);
    }
}
