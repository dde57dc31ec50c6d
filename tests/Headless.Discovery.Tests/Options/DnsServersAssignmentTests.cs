namespace Headless.Discovery.Tests.Options;

/// <summary><c>DnsServers</c> takes a list as a whole (a collection expression) as well as one server at a time.</summary>
public sealed class DnsServersAssignmentTests
{
    [Fact]
    public void A_list_can_be_assigned_and_a_null_one_is_refused_naming_the_property()
    {
        var options = new HeadlessServiceOptions { Name = "web.default.svc.cluster.local", DnsServers = ["127.0.0.1:5353", "[::1]:53"] };
        options.DnsServers.Add("127.0.0.2");
        Assert.Equal(["127.0.0.1:5353", "[::1]:53", "127.0.0.2"], options.DnsServers);
        Assert.Equal(["127.0.0.1:5353", "[::1]:53", "127.0.0.2"], options.Clone().DnsServers);

        Assert.Throws<ArgumentNullException>(() => options.DnsServers = null!);
        Assert.Equal(3, options.DnsServers.Count);
    }
}
