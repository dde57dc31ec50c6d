using System.Net;
using System.Net.Sockets;
using ARSoft.Tools.Net;
using ARSoft.Tools.Net.Dns;

namespace Headless.Discovery.Testing;

/// <summary>
/// The embedded server's in-memory zone: per name, its A, AAAA and SRV records and whether an SRV answer carries its
/// targets' addresses. Records are built outside the lock (<see cref="AddressRecords"/>, <see cref="SrvRecords"/>);
/// the other members are called under the server's lock.
/// </summary>
internal sealed class DnsZone
{
    private readonly Dictionary<string, ZoneEntry> _entries = new(StringComparer.Ordinal);

    /// <summary>A and AAAA records of <paramref name="key"/> for <paramref name="addresses"/>, in order.</summary>
    public static (DnsRecordBase[] A, DnsRecordBase[] Aaaa) AddressRecords(string key, IEnumerable<IPAddress> addresses, int ttlSeconds)
    {
        var owner = DomainName.Parse(key);
        var a = new List<DnsRecordBase>();
        var aaaa = new List<DnsRecordBase>();
        foreach (var address in addresses)
        {
            ArgumentNullException.ThrowIfNull(address, nameof(addresses));
            switch (address.AddressFamily)
            {
                case AddressFamily.InterNetwork: a.Add(new ARecord(owner, ttlSeconds, address)); break;
                case AddressFamily.InterNetworkV6: aaaa.Add(new AaaaRecord(owner, ttlSeconds, address)); break;
                default: throw new ArgumentException($"'{address}' is neither an IPv4 nor an IPv6 address.", nameof(addresses));
            }
        }

        return ([.. a], [.. aaaa]);
    }

    /// <summary>SRV records of <paramref name="key"/> for <paramref name="targets"/>, in order, and the distinct target names.</summary>
    public static (DnsRecordBase[] Records, string[] TargetKeys) SrvRecords(string key, IEnumerable<SrvTarget> targets, int ttlSeconds)
    {
        var owner = DomainName.Parse(key);
        var records = new List<DnsRecordBase>();
        var targetKeys = new List<string>();
        foreach (var target in targets)
        {
            ArgumentNullException.ThrowIfNull(target, nameof(targets));
            var targetKey = DnsNames.Normalize(target.Hostname, nameof(targets));
            targetKeys.Add(targetKey);
            records.Add(new SrvRecord(owner, ttlSeconds, (ushort)target.Priority, (ushort)target.Weight, (ushort)target.Port, DomainName.Parse(targetKey)));
        }

        return ([.. records], [.. targetKeys.Distinct(StringComparer.Ordinal)]);
    }

    /// <summary>Replaces the addresses of <paramref name="key"/>, keeping its SRV records.</summary>
    public void SetAddresses(string key, DnsRecordBase[] a, DnsRecordBase[] aaaa) =>
        _entries[key] = Get(key) with { A = a, Aaaa = aaaa };

    /// <summary>Replaces the SRV records of <paramref name="key"/>, keeping its addresses.</summary>
    public void SetSrv(string key, DnsRecordBase[] records, string[] targetKeys, bool additional) =>
        _entries[key] = Get(key) with { Srv = records, SrvTargets = targetKeys, SrvAdditional = additional };

    public bool Remove(string key) => _entries.Remove(key);

    public void Clear() => _entries.Clear();

    /// <summary>
    /// The entry of <paramref name="key"/> (null when unknown) and, for an SRV (or ANY) query whose answer carries
    /// addresses, the entries of its targets: one consistent view of the zone for one answer.
    /// </summary>
    public (ZoneEntry? Entry, ZoneEntry[]? Targets) Lookup(string key, DnsRecordType type)
    {
        var entry = _entries.GetValueOrDefault(key);
        if (entry is not { SrvAdditional: true, Srv.Length: > 0 } || type is not (DnsRecordType.Srv or DnsRecordType.Any))
        {
            return (entry, null);
        }

        var targets = entry.SrvTargets
            .Select(t => _entries.GetValueOrDefault(t))
            .OfType<ZoneEntry>()
            .ToArray();
        return (entry, targets);
    }

    private ZoneEntry Get(string key) => _entries.GetValueOrDefault(key) ?? ZoneEntry.Empty;

    /// <summary>The records of one name.</summary>
    internal sealed record ZoneEntry(DnsRecordBase[] A, DnsRecordBase[] Aaaa, DnsRecordBase[] Srv, string[] SrvTargets, bool SrvAdditional)
    {
        public static readonly ZoneEntry Empty = new([], [], [], [], true);
    }
}
