using System.Globalization;
using DnsClient;
using DnsClient.Protocol;

namespace Headless.Discovery;

/// <summary>
/// A DNS answer read from a TCP connection, as DnsClient's own record types, so the resolver reads it exactly as an
/// answer over UDP. Names and records are read with DnsClient's public <see cref="DnsDatagramReader"/>, the reader its
/// UDP path uses; A, AAAA, CNAME, SRV and SOA records are decoded (the types the resolver reads), any other type is kept
/// as an <see cref="UnknownRecord"/>.
/// </summary>
/// <remarks>
/// Stricter than DnsClient's UDP path, because nothing here can fall back: the answer must carry the query's id, be a
/// response, not be truncated, and answer the question asked; every record's data must be exactly as long as it says.
/// Anything else is a <see cref="DnsResponseParseException"/>. Immutable once read.
/// </remarks>
internal sealed class DnsTcpAnswer : IDnsQueryResponse
{
    private const ushort ResponseFlag = 0x8000;

    private DnsTcpAnswer(
        DnsResponseHeader header,
        List<DnsQuestion> questions,
        List<DnsResourceRecord> answers,
        List<DnsResourceRecord> authorities,
        List<DnsResourceRecord> additionals,
        int size,
        NameServer server,
        DnsQuerySettings settings)
    {
        Header = header;
        Questions = questions;
        Answers = answers;
        Authorities = authorities;
        Additionals = additionals;
        MessageSize = size;
        NameServer = server;
        Settings = settings;
    }

    public IReadOnlyList<DnsQuestion> Questions { get; }

    public IReadOnlyList<DnsResourceRecord> Additionals { get; }

    public IEnumerable<DnsResourceRecord> AllRecords => Answers.Concat(Additionals).Concat(Authorities);

    public IReadOnlyList<DnsResourceRecord> Answers { get; }

    public IReadOnlyList<DnsResourceRecord> Authorities { get; }

    public string AuditTrail => string.Empty;

    public string ErrorMessage => HasError ? Header.ResponseCode.ToString() : string.Empty;

    public bool HasError => Header.ResponseCode != DnsHeaderResponseCode.NoError;

    public DnsResponseHeader Header { get; }

    public int MessageSize { get; }

    public NameServer NameServer { get; }

    public DnsQuerySettings Settings { get; }

    /// <summary>Reads <paramref name="message"/> (without its length prefix) as the answer to query <paramref name="id"/> for <paramref name="name"/>/<paramref name="type"/>.</summary>
    /// <exception cref="DnsResponseParseException">The message is malformed, not a response, truncated, or answers another query.</exception>
    public static DnsTcpAnswer Read(byte[] message, ushort id, string name, QueryType type, NameServer server, DnsQuerySettings settings)
    {
        try
        {
            return ReadCore(message, id, name, type, server, settings);
        }
        catch (Exception ex) when (ex is not DnsResponseParseException and not OutOfMemoryException)
        {
            // DnsClient's reader can throw other exceptions on hostile input; to the caller they are all one malformed answer.
            throw Malformed($"cannot be read ({ex.Message})", ex);
        }
    }

    private static DnsTcpAnswer ReadCore(byte[] message, ushort id, string name, QueryType type, NameServer server, DnsQuerySettings settings)
    {
        if (message.Length < 12)
        {
            throw Malformed(string.Create(CultureInfo.InvariantCulture, $"is {message.Length} bytes long, shorter than a DNS header"));
        }

        // The array is exactly the message: DnsClient's name reader bounds compression pointers by the array's length.
        var reader = new DnsDatagramReader(new ArraySegment<byte>(message));
        ushort gotId = reader.ReadUInt16NetworkOrder();
        ushort flags = reader.ReadUInt16NetworkOrder();
        int questionCount = reader.ReadUInt16NetworkOrder();
        int answerCount = reader.ReadUInt16NetworkOrder();
        int authorityCount = reader.ReadUInt16NetworkOrder();
        int additionalCount = reader.ReadUInt16NetworkOrder();
        var header = new DnsResponseHeader(gotId, flags, questionCount, answerCount, additionalCount, authorityCount);
        if (gotId != id)
        {
            throw Malformed(string.Create(CultureInfo.InvariantCulture, $"has id {gotId}, not the query's {id}"));
        }

        if ((flags & ResponseFlag) == 0)
        {
            throw Malformed("is not a response (the QR bit is clear)");
        }

        if (header.ResultTruncated)
        {
            throw Malformed("is truncated (TC) even over TCP");
        }

        var questions = new List<DnsQuestion>(Math.Min(questionCount, 4));
        for (int i = 0; i < questionCount; i++)
        {
            DnsString questionName = reader.ReadQuestionQueryString();
            var questionType = (QueryType)reader.ReadUInt16NetworkOrder();
            var questionClass = (QueryClass)reader.ReadUInt16NetworkOrder();
            questions.Add(new DnsQuestion(questionName, questionType, questionClass));
        }

        // Servers may leave the question out of an error answer (FORMERR, NOTIMP), never out of an answer that counts.
        bool answersOurQuestion = questions.Count > 0
            ? questions[0].QuestionType == type && SameName(questions[0].QueryName, name)
            : header.ResponseCode is not (DnsHeaderResponseCode.NoError or DnsHeaderResponseCode.NotExistentDomain);
        if (!answersOurQuestion)
        {
            string asked = questions.Count > 0 ? $"{questions[0].QuestionType} '{questions[0].QueryName.Value}'" : "no question";
            throw Malformed($"answers {asked}, not {type} '{name}'");
        }

        List<DnsResourceRecord> answers = ReadRecords(reader, answerCount, message.Length);
        List<DnsResourceRecord> authorities = ReadRecords(reader, authorityCount, message.Length);
        List<DnsResourceRecord> additionals = ReadRecords(reader, additionalCount, message.Length);
        return new DnsTcpAnswer(header, questions, answers, authorities, additionals, message.Length, server, settings);
    }

    private static List<DnsResourceRecord> ReadRecords(DnsDatagramReader reader, int count, int messageLength)
    {
        // A record takes at least 11 bytes: a count the message cannot hold must not size the list.
        var records = new List<DnsResourceRecord>(Math.Min(count, (messageLength - reader.Index) / 11));
        for (int i = 0; i < count; i++)
        {
            records.Add(ReadRecord(reader, messageLength));
        }

        return records;
    }

    /// <summary>One resource record, read field by field as DnsClient's record factory reads it.</summary>
    private static DnsResourceRecord ReadRecord(DnsDatagramReader reader, int messageLength)
    {
        DnsString owner = reader.ReadQuestionQueryString();
        var recordType = (ResourceRecordType)reader.ReadUInt16NetworkOrder();
        var recordClass = (QueryClass)reader.ReadUInt16NetworkOrder();
        int ttl = (int)reader.ReadUInt32NetworkOrder();
        int length = reader.ReadUInt16NetworkOrder();
        int start = reader.Index;
        if (length > messageLength - start)
        {
            throw Malformed(string.Create(CultureInfo.InvariantCulture, $"has a {recordType} record of {length} bytes where only {messageLength - start} remain"));
        }

        var info = new ResourceRecordInfo(owner, recordType, recordClass, ttl, length);
        DnsResourceRecord record = recordType switch
        {
            ResourceRecordType.A => new ARecord(info, reader.ReadIPAddress()),
            ResourceRecordType.AAAA => new AaaaRecord(info, reader.ReadIPv6Address()),
            ResourceRecordType.CNAME => new CNameRecord(info, reader.ReadDnsName()),
            ResourceRecordType.SRV => ReadSrv(reader, info),
            ResourceRecordType.SOA => ReadSoa(reader, info),
            _ => new UnknownRecord(info, reader.ReadBytes(length).ToArray()),
        };

        if (reader.Index != start + length)
        {
            throw Malformed(string.Create(CultureInfo.InvariantCulture, $"has a {recordType} record whose data says {length} bytes but reads as {reader.Index - start}"));
        }

        return record;
    }

    private static SrvRecord ReadSrv(DnsDatagramReader reader, ResourceRecordInfo info)
    {
        ushort priority = reader.ReadUInt16NetworkOrder();
        ushort weight = reader.ReadUInt16NetworkOrder();
        ushort port = reader.ReadUInt16NetworkOrder();
        return new SrvRecord(info, priority, weight, port, reader.ReadDnsName());
    }

    private static SoaRecord ReadSoa(DnsDatagramReader reader, ResourceRecordInfo info)
    {
        DnsString primary = reader.ReadDnsName();
        DnsString mailbox = reader.ReadDnsName();
        uint serial = reader.ReadUInt32NetworkOrder();
        uint refresh = reader.ReadUInt32NetworkOrder();
        uint retry = reader.ReadUInt32NetworkOrder();
        uint expire = reader.ReadUInt32NetworkOrder();
        uint minimum = reader.ReadUInt32NetworkOrder();
        return new SoaRecord(info, primary, mailbox, serial, refresh, retry, expire, minimum);
    }

    private static bool SameName(DnsString asked, string name)
    {
        ReadOnlySpan<char> a = asked.Value.AsSpan().TrimEnd('.');
        ReadOnlySpan<char> b = name.AsSpan().TrimEnd('.');
        return a.Equals(b, StringComparison.OrdinalIgnoreCase);
    }

    private static DnsResponseParseException Malformed(string what, Exception? inner = null) =>
        inner is null ? new("the answer over TCP " + what) : new("the answer over TCP " + what, inner);
}
