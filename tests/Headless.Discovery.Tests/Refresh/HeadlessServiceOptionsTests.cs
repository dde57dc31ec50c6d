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
        { "DnsServers[0]", o => o.DnsServers.Add("not-an-ip") },
        { "DnsAttemptTimeout", o => o.DnsAttemptTimeout = TimeSpan.Zero },
        { "DnsRetryCount", o => o.DnsRetryCount = -1 },
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

    /// <summary>Each option that schedules repeated work or bounds a wait has a documented floor.</summary>
    public static TheoryData<string, Action<HeadlessServiceOptions>> BelowTheFloor() => new()
    {
        { "MinRefreshInterval", o => o.MinRefreshInterval = TimeSpan.FromTicks(1) },
        { "MinRefreshInterval", o => o.MinRefreshInterval = TimeSpan.FromMilliseconds(99) },
        { "MaxRefreshInterval", o => o.MaxRefreshInterval = TimeSpan.FromMilliseconds(50) },
        { "FailureBackoffBase", o => o.FailureBackoffBase = TimeSpan.FromTicks(1) },
        { "DnsAttemptTimeout", o => o.DnsAttemptTimeout = TimeSpan.FromTicks(1) },
        { "ActiveHealth.Interval", o => o.ActiveHealth.Interval = TimeSpan.FromTicks(1) },
        { "ActiveHealth.Interval", o => o.ActiveHealth.Interval = TimeSpan.FromMilliseconds(99) },
        { "ActiveHealth.Timeout", o => o.ActiveHealth.Timeout = TimeSpan.FromTicks(1) },
        { "PassiveHealth.BaseEjectionTime", o => o.PassiveHealth.BaseEjectionTime = TimeSpan.FromTicks(1) },
    };

    [Theory]
    [MemberData(nameof(BelowTheFloor))]
    public void Values_below_the_documented_floor_are_refused_naming_the_option(string option, Action<HeadlessServiceOptions> breakIt)
    {
        HeadlessServiceOptions o = Valid();
        breakIt(o);
        ArgumentException ex = Assert.ThrowsAny<ArgumentException>(o.Validate);
        Assert.Contains(option, ex.Message, StringComparison.Ordinal);
        Assert.Contains("floor", ex.Message, StringComparison.Ordinal);
        // Validation throws before anything is resolved: nothing is sent anywhere.
        Assert.Throws<InvalidOptionsException>(() => new HeadlessService(o));
    }

    [Fact]
    public void Values_at_the_floor_are_accepted()
    {
        HeadlessServiceOptions o = Valid();
        o.MinRefreshInterval = TimeSpan.FromMilliseconds(100);
        o.MaxRefreshInterval = TimeSpan.FromMilliseconds(100);
        o.FailureBackoffBase = TimeSpan.FromMilliseconds(10);
        o.DnsAttemptTimeout = TimeSpan.FromMilliseconds(10);
        o.ActiveHealth.Interval = TimeSpan.FromMilliseconds(100);
        o.ActiveHealth.Timeout = TimeSpan.FromMilliseconds(10);
        o.PassiveHealth.BaseEjectionTime = TimeSpan.FromMilliseconds(100);
        o.Validate();
    }

    /// <summary>
    /// The copy a service keeps holds every option: each settable property, at any depth, is set to a value other than
    /// its default by reflection, so an option added later without a line in Clone fails here.
    /// </summary>
    [Fact]
    public void The_copy_a_service_keeps_holds_every_option()
    {
        HeadlessServiceOptions original = Valid();
        original.DnsServers.Add("127.0.0.1:5353");
        int seed = 1;
        SetEveryOption(original, ref seed);

        HeadlessServiceOptions copy = original.Clone();

        AssertSameOptions(original, copy, nameof(HeadlessServiceOptions));
        Assert.NotSame(original.DnsServers, copy.DnsServers);
        Assert.Equal(original.DnsServers, copy.DnsServers);
    }

    private static void SetEveryOption(object options, ref int seed)
    {
        foreach (System.Reflection.PropertyInfo property in options.GetType().GetProperties())
        {
            Type type = property.PropertyType;
            if (property.CanWrite)
            {
                seed++;
                object? value = type switch
                {
                    _ when type == typeof(string) => $"value{seed}",
                    _ when type == typeof(int) => 1000 + seed,
                    _ when type == typeof(double) || type == typeof(double?) => 0.25 + seed,
                    _ when type == typeof(bool) => !(bool)property.GetValue(options)!,
                    _ when type == typeof(TimeSpan) => TimeSpan.FromMilliseconds(1000 + seed),
                    _ when type.IsEnum => Enum.GetValues(type).Cast<object>().Last(),
                    _ when type == typeof(IEndpointProbe) => new DelegateProbe((_, _) => ValueTask.FromResult(ProbeResult.Healthy())),
                    _ when type == typeof(IList<string>) => new List<string> { $"127.0.0.{seed % 250}:53" },
                    _ => throw new InvalidOperationException($"Add a value for {type} ({property.Name}) to this test."),
                };
                property.SetValue(options, value);
            }
            else if (type.IsClass && type.Namespace == typeof(HeadlessServiceOptions).Namespace)
            {
                SetEveryOption(property.GetValue(options)!, ref seed);
            }
        }
    }

    private static void AssertSameOptions(object expected, object actual, string path)
    {
        Assert.NotSame(expected, actual);
        foreach (System.Reflection.PropertyInfo property in expected.GetType().GetProperties())
        {
            object? e = property.GetValue(expected);
            object? a = property.GetValue(actual);
            if (e is IList<string> list)
            {
                // A list is copied, not shared: the copy holds the same entries in a list of its own.
                Assert.Equal(list, Assert.IsAssignableFrom<IList<string>>(a));
                Assert.NotSame(e, a);
            }
            else if (property.CanWrite || e is null || e is string || e.GetType().IsValueType)
            {
                Assert.True(Equals(e, a), $"{path}.{property.Name}: expected {e}, got {a}");
            }
            else if (e.GetType().Namespace == typeof(HeadlessServiceOptions).Namespace)
            {
                AssertSameOptions(e, a!, $"{path}.{property.Name}");
            }
        }
    }

    [Fact]
    public void The_service_constructor_validates_refresh_options()
    {
        var options = new HeadlessServiceOptions { RefreshJitter = 2 };
        ArgumentException ex = Assert.ThrowsAny<ArgumentException>(() =>
            new HeadlessService(ServiceName.Parse("a.b"), new ScriptedResolver(ScriptedAnswers.Default), options));
        Assert.Contains("RefreshJitter", ex.Message, StringComparison.Ordinal);
    }
}
