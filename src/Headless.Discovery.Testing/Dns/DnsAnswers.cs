using ARSoft.Tools.Net;
using ARSoft.Tools.Net.Dns;

namespace Headless.Discovery.Testing;

/// <summary>
/// Fills the embedded server's response to one query: the injected fault's answer, NXDOMAIN for an unknown name,
/// the records of the asked type, and the SOA that carries the negative TTL with NXDOMAIN and NODATA.
/// </summary>
internal static class DnsAnswers
{
    /// <summary>Fills <paramref name="response"/> for <paramref name="question"/> given what the zone held at receipt.</summary>
    public static void Fill(DnsMessage response, DnsQuestion question, DnsFault fault, DnsZone.ZoneEntry? entry, DnsZone.ZoneEntry[]? targets, TimeSpan negativeTtl)
    {
        switch (fault)
        {
            case DnsFault.ServerFailure:
                response.ReturnCode = ReturnCode.ServerFailure;
                return;
            case DnsFault.Refused:
                response.ReturnCode = ReturnCode.Refused;
                return;
            case DnsFault.NameError:
                response.ReturnCode = ReturnCode.NxDomain;
                response.AuthorityRecords.Add(CreateSoa(question.Name, negativeTtl));
                return;
            case DnsFault.Truncate:
                response.IsTruncated = true;
                return;
        }

        if (entry is null)
        {
            response.ReturnCode = ReturnCode.NxDomain;
            response.AuthorityRecords.Add(CreateSoa(question.Name, negativeTtl));
            return;
        }

        AddAnswers(response, entry, (DnsRecordType)(int)question.RecordType, targets);
        if (response.AnswerRecords.Count == 0)
        {
            response.AuthorityRecords.Add(CreateSoa(question.Name, negativeTtl));
        }
    }

    private static void AddAnswers(DnsMessage response, DnsZone.ZoneEntry entry, DnsRecordType type, DnsZone.ZoneEntry[]? targets)
    {
        if (type is DnsRecordType.A or DnsRecordType.Any)
        {
            response.AnswerRecords.AddRange(entry.A);
        }

        if (type is DnsRecordType.Aaaa or DnsRecordType.Any)
        {
            response.AnswerRecords.AddRange(entry.Aaaa);
        }

        if (type is DnsRecordType.Srv or DnsRecordType.Any)
        {
            response.AnswerRecords.AddRange(entry.Srv);
            foreach (var target in targets ?? [])
            {
                response.AdditionalRecords.AddRange(target.A);
                response.AdditionalRecords.AddRange(target.Aaaa);
            }
        }
    }

    private static SoaRecord CreateSoa(DomainName queried, TimeSpan negativeTtl)
    {
        // Kubernetes' CoreDNS answers with the SOA of the cluster zone; the last two labels are a fair stand-in.
        var apex = queried.LabelCount > 2 ? queried.GetParentName(queried.LabelCount - 2) : queried;
        var ttl = DnsNames.ToTtlSeconds(negativeTtl, nameof(negativeTtl));
        return new SoaRecord(
            apex,
            ttl,
            DomainName.Parse("ns.dns." + apex.ToString(true)),
            DomainName.Parse("hostmaster." + apex.ToString(true)),
            1,
            7200,
            1800,
            86400,
            ttl);
    }
}
