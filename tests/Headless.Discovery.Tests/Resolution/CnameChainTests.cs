using DnsClient;
using DnsClient.Protocol;

namespace Headless.Discovery.Tests.Resolution;

public sealed class CnameChainTests
{
    private static CNameRecord Cname(string owner, string target, int ttl = 30) =>
        new(new ResourceRecordInfo(owner + ".", ResourceRecordType.CNAME, QueryClass.IN, ttl, 0), DnsString.Parse(target + "."));

    [Fact]
    public void Chain_is_followed_and_its_ttls_count()
    {
        DnsResourceRecord[] answers = [Cname("b.example", "c.example", 3), Cname("a.example", "B.Example", 20)];
        uint ttl = uint.MaxValue;

        Assert.True(DnsAnswerReader.TryFollowChain(answers, "a.example", ref ttl, out List<string>? chain));
        Assert.Equal(["a.example", "b.example", "c.example"], chain);
        Assert.Equal(3u, ttl);
    }

    [Fact]
    public void No_cname_is_a_chain_of_one()
    {
        uint ttl = uint.MaxValue;
        Assert.True(DnsAnswerReader.TryFollowChain([Cname("other.example", "x.example")], "a.example", ref ttl, out List<string>? chain));
        Assert.Equal(["a.example"], chain);
        Assert.Equal(uint.MaxValue, ttl);
    }

    [Fact]
    public void Loops_and_overlong_chains_are_rejected()
    {
        uint ttl = uint.MaxValue;
        Assert.False(DnsAnswerReader.TryFollowChain([Cname("a.example", "b.example"), Cname("b.example", "a.example")], "a.example", ref ttl, out _));

        DnsResourceRecord[] longChain = Enumerable.Range(0, DnsResolver.MaxCnameChainLength + 1)
            .Select(i => (DnsResourceRecord)Cname($"n{i}.example", $"n{i + 1}.example"))
            .ToArray();
        Assert.False(DnsAnswerReader.TryFollowChain(longChain, "n0.example", ref ttl, out _));

        DnsResourceRecord[] maxChain = longChain[..DnsResolver.MaxCnameChainLength];
        Assert.True(DnsAnswerReader.TryFollowChain(maxChain, "n0.example", ref ttl, out List<string>? chain));
        Assert.Equal(DnsResolver.MaxCnameChainLength + 1, chain!.Count);
    }
}
