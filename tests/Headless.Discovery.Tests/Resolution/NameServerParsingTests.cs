using System.Net;

namespace Headless.Discovery.Tests.Resolution;

public sealed class NameServerParsingTests
{
    [Theory]
    [InlineData("10.96.0.10", "10.96.0.10:53")]
    [InlineData(" 127.0.0.1:5353 ", "127.0.0.1:5353")]
    [InlineData("::1", "[::1]:53")]
    [InlineData("[fd00::10]:1053", "[fd00::10]:1053")]
    [InlineData("[fd00::10]", "[fd00::10]:53")]
    public void Valid_name_servers_parse(string text, string expected)
    {
        Assert.True(DnsEndpointResolverOptions.TryParseDnsServer(text, out IPEndPoint? endPoint));
        Assert.Equal(expected, endPoint.ToString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("dns.example.com")]
    [InlineData("10.0.0.1:0")]
    [InlineData("10.0.0.1:70000")]
    [InlineData("10.0.0.1:abc")]
    public void Invalid_name_servers_are_rejected(string? text)
    {
        Assert.False(DnsEndpointResolverOptions.TryParseDnsServer(text, out _));
    }

    /// <summary>Parsed only, never sent to: none of these addresses is ever put in a resolver that queries.</summary>
    public static TheoryData<string, string> AmbiguousOrUnusable() => new()
    {
        { "::1:53", "[::1]:53" },
        { "fe80::1:5353", "[fe80::1]:5353" },
        { "2001:db8::1:53", "[2001:db8::1]:53" },
        { "0.0.0.0", "unspecified" },
        { "0.0.0.0:53", "unspecified" },
        { "::", "unspecified" },
        { "[::]:53", "unspecified" },
        { "224.0.0.251:5353", "multicast" },
        { "[ff02::fb]:5353", "multicast" },
        { "255.255.255.255", "broadcast" },
    };

    [Theory]
    [MemberData(nameof(AmbiguousOrUnusable))]
    public void Ambiguous_and_unusable_name_servers_are_rejected(string text, string hint)
    {
        Assert.False(DnsEndpointResolverOptions.TryParseDnsServer(text, out _));
        Assert.NotEmpty(hint);
    }

    [Theory]
    [MemberData(nameof(AmbiguousOrUnusable))]
    public void A_bad_dns_server_fails_the_service_options_with_an_error_naming_DnsServers(string text, string hint)
    {
        var options = new HeadlessServiceOptions { Name = "web.default.svc.cluster.local" };
        options.DnsServers.Add("127.0.0.1:5353");
        options.DnsServers.Add(text);

        InvalidOptionsException fromValidate = Assert.Throws<InvalidOptionsException>(options.Validate);
        InvalidOptionsException fromConstructor = Assert.Throws<InvalidOptionsException>(() => new HeadlessService(options));

        foreach (InvalidOptionsException ex in new[] { fromValidate, fromConstructor })
        {
            Assert.Equal("DnsServers[1]", Assert.Single(ex.Problems).Path);
            Assert.StartsWith($"DnsServers[1]: '{text}'", ex.Message, StringComparison.Ordinal);
            Assert.Contains(hint, ex.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("fd00::10", "[fd00::10]:53")]
    [InlineData("2001:db8::53", "[2001:db8::53]:53")]
    [InlineData("::ffff:127.0.0.1", "[::ffff:127.0.0.1]:53")]
    public void Bare_ipv6_addresses_that_cannot_be_misread_still_parse(string text, string expected)
    {
        Assert.True(DnsEndpointResolverOptions.TryParseDnsServer(text, out IPEndPoint? endPoint));
        Assert.Equal(expected, endPoint.ToString());
    }

    [Fact]
    public void Resolver_constructor_validates_and_names_the_bad_server()
    {
        var options = new DnsEndpointResolverOptions();
        options.DnsServers.Add("127.0.0.1:53");
        options.DnsServers.Add("not-an-ip");
        var ex = Assert.Throws<InvalidOptionsException>(() => new DnsResolver(options));
        Assert.Contains("DnsServers[1]", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolver_lists_configured_servers_in_order_without_repeats()
    {
        var options = new DnsEndpointResolverOptions();
        options.DnsServers.Add("127.0.0.2:5300");
        options.DnsServers.Add("::1");
        options.DnsServers.Add("127.0.0.2:5300");
        var resolver = new DnsResolver(options);
        Assert.Equal(["127.0.0.2:5300", "[::1]:53"], resolver.DnsServers);
    }

    [Theory]
    [InlineData("0.0.0.0", "Unspecified")]
    [InlineData("::", "Unspecified")]
    [InlineData("224.0.0.1", "Multicast")]
    [InlineData("239.255.255.250", "Multicast")]
    [InlineData("ff02::1", "Multicast")]
    [InlineData("255.255.255.255", "Broadcast")]
    [InlineData("::ffff:224.0.0.5", "Multicast")]
    [InlineData("10.1.2.3", "None")]
    [InlineData("223.255.255.255", "None")]
    [InlineData("240.0.0.1", "None")]
    [InlineData("fd00::1", "None")]
    public void Address_hygiene_classifies(string address, string expected)
    {
        Assert.Equal(expected, AddressHygiene.Classify(IPAddress.Parse(address)).ToString());
    }
}
