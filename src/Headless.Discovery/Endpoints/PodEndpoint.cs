using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Headless.Discovery;

/// <summary>
/// One pod behind a headless Service: an address, a port and, when the answer came from SRV records,
/// the pod's hostname and (for StatefulSet pods named <c>&lt;set&gt;-&lt;n&gt;</c>) its ordinal.
/// </summary>
/// <remarks>
/// Instances are immutable and shared by every snapshot that contains the pod, so handing one out allocates nothing.
/// Identity is address + port + hostname (when known): the same IP reappearing under another hostname is another pod.
/// Ordering is by address bytes (IPv4 before IPv6), then port, then hostname (ordinal, case-insensitive).
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1036:Override methods on comparable types", Justification = "The order exists to sort snapshots (CompareTo, the default comparer); relational operators would be a second way to say it.")]
public sealed class PodEndpoint : IEquatable<PodEndpoint>, IComparable<PodEndpoint>
{
    private static readonly System.Buffers.SearchValues<char> LabelChars = System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyz0123456789-");
    private static readonly System.Buffers.SearchValues<char> HexAndDash = System.Buffers.SearchValues.Create("0123456789abcdef-");

    private readonly int _hashCode;

    // The length of the StatefulSet name at the start of Hostname (0: none), so parsing allocates nothing.
    private readonly int _statefulSetNameLength;

    // The IPv4 address as a big-endian number, so that the ordering (sorting every answer, diffing every snapshot)
    // compares two integers instead of serialising both addresses on every comparison. Unused for IPv6.
    private readonly uint _ipv4;
    private readonly bool _isIPv4;

    /// <summary>Creates an endpoint.</summary>
    /// <param name="address">The pod's IP address.</param>
    /// <param name="port">The port, 0 to 65535 (0 means "no port known").</param>
    /// <param name="hostname">The pod's DNS hostname (SRV target) without a trailing dot, or <see langword="null"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="address"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="port"/> is outside 0..65535.</exception>
    public PodEndpoint(IPAddress address, int port, string? hostname = null)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, IPEndPoint.MaxPort);

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        Address = address;
        Port = port;
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            Span<byte> bytes = stackalloc byte[4];
            address.TryWriteBytes(bytes, out _);
            _ipv4 = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes);
            _isIPv4 = true;
        }

        Hostname = string.IsNullOrEmpty(hostname) ? null : hostname.TrimEnd('.').ToLowerInvariant();
        if (Hostname is not null && TryParseStatefulSetLabel(Hostname, out int setLength, out int ordinal))
        {
            _statefulSetNameLength = setLength;
            Ordinal = ordinal;
        }

        _hashCode = HashCode.Combine(address, port, Hostname is null ? 0 : StringComparer.Ordinal.GetHashCode(Hostname));
    }

    /// <summary>
    /// For an IPv4 endpoint without a hostname, a number whose order is this type's order (address, then port), so a
    /// whole A answer can be sorted as primitive keys; <see langword="false"/> otherwise.
    /// </summary>
    internal bool TryGetSortKey(out ulong key)
    {
        key = ((ulong)_ipv4 << 16) | (uint)Port;
        return _isIPv4 && Hostname is null;
    }

    /// <summary>The shared "not probed" status of this pod, so snapshots without health checking allocate no statuses.</summary>
    internal EndpointStatus UnknownStatus => field ??= new EndpointStatus(this);

    /// <summary>The pod's IP address (IPv4-mapped IPv6 addresses are normalised to IPv4).</summary>
    public IPAddress Address { get; }

    /// <summary>The port (0 when the answer carried none and no default port was configured).</summary>
    public int Port { get; }

    /// <summary>The pod's hostname from the SRV target (lower case, no trailing dot), or <see langword="null"/> for A/AAAA answers.</summary>
    public string? Hostname { get; }

    /// <summary>
    /// The StatefulSet ordinal from the first label of <see cref="Hostname"/> (<c>web-2.nginx…</c> gives 2), or
    /// <see langword="null"/> when there is no hostname or its first label is not a canonical <c>&lt;set&gt;-&lt;n&gt;</c>:
    /// at most 63 characters; the set a DNS label prefix (lower-case letters, digits and '-', starting with a letter or
    /// digit, not ending with '-'); <c>n</c> decimal digits without a leading zero, at most 2 147 483 647. A pod IP
    /// written with dashes (<c>10-1-2-3</c>, <c>2001-db8-0-1-2-3-4-5</c>: CoreDNS's hostname for pods without one) is not
    /// an ordinal.
    /// </summary>
    public int? Ordinal { get; }

    /// <summary>
    /// The StatefulSet name from the first label of <see cref="Hostname"/> (<c>web-2.nginx…</c> gives <c>web</c>), set
    /// exactly when <see cref="Ordinal"/> is; lower case. Created on first use, then cached.
    /// </summary>
    public string? StatefulSetName => _statefulSetNameLength == 0 ? null : field ??= Hostname![.._statefulSetNameLength];

    /// <summary>The address and port as an <see cref="IPEndPoint"/> (created on first use, then cached; do not mutate it).</summary>
    /// <remarks>
    /// Lazy because every resolution round parses every record into a <see cref="PodEndpoint"/>, and most of them are
    /// dropped at once as equal to the published ones. Two threads racing on the first read may each create one; both
    /// are equal, one is kept.
    /// </remarks>
    public IPEndPoint EndPoint => field ??= new IPEndPoint(Address, Port);

    /// <summary>
    /// The <c>address:port</c> text (<c>[v6]:port</c> for IPv6), as printed by the CLI and used in logs. Formatted on
    /// first use, then cached (see <see cref="EndPoint"/> for why).
    /// </summary>
    public string Key => field ??= Address.AddressFamily == AddressFamily.InterNetworkV6
        ? string.Create(CultureInfo.InvariantCulture, $"[{Address}]:{Port}")
        : string.Create(CultureInfo.InvariantCulture, $"{Address}:{Port}");

    /// <inheritdoc/>
    public bool Equals(PodEndpoint? other) =>
        other is not null
        && (ReferenceEquals(this, other)
            || (_hashCode == other._hashCode
                && Port == other.Port
                && Address.Equals(other.Address)
                && string.Equals(Hostname, other.Hostname, StringComparison.Ordinal)));

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as PodEndpoint);

    /// <inheritdoc/>
    public override int GetHashCode() => _hashCode;

    /// <inheritdoc/>
    public int CompareTo(PodEndpoint? other)
    {
        if (other is null)
        {
            return 1;
        }

        if (ReferenceEquals(this, other))
        {
            return 0;
        }

        int c = _isIPv4 && other._isIPv4 ? _ipv4.CompareTo(other._ipv4) : CompareAddresses(Address, other.Address);
        if (c != 0)
        {
            return c;
        }

        c = Port.CompareTo(other.Port);
        return c != 0 ? c : string.CompareOrdinal(Hostname, other.Hostname);
    }

    /// <summary>Returns <see cref="Key"/>, followed by the hostname when known.</summary>
    public override string ToString() => Hostname is null ? Key : $"{Key} ({Hostname})";

    /// <summary>Equality by identity (address, port, hostname).</summary>
    public static bool operator ==(PodEndpoint? left, PodEndpoint? right) => left is null ? right is null : left.Equals(right);

    /// <summary>Inequality by identity (address, port, hostname).</summary>
    public static bool operator !=(PodEndpoint? left, PodEndpoint? right) => !(left == right);





    internal static int CompareAddresses(IPAddress a, IPAddress b)
    {
        if (a.AddressFamily != b.AddressFamily)
        {
            return a.AddressFamily == AddressFamily.InterNetwork ? -1 : 1;
        }

        Span<byte> x = stackalloc byte[16];
        Span<byte> y = stackalloc byte[16];
        a.TryWriteBytes(x, out int xl);
        b.TryWriteBytes(y, out int yl);
        int c = x[..xl].SequenceCompareTo(y[..yl]);
        if (c != 0)
        {
            return c;
        }

        return a.AddressFamily == AddressFamily.InterNetworkV6 ? a.ScopeId.CompareTo(b.ScopeId) : 0;
    }

    /// <summary>Parses a canonical <c>&lt;set&gt;-&lt;n&gt;</c> from the first label of a lower-case hostname (see <see cref="Ordinal"/>).</summary>
    /// <param name="hostname">The hostname.</param>
    /// <param name="setLength">The length of the set name, which starts the hostname.</param>
    /// <param name="ordinal">The ordinal.</param>
    /// <returns>Whether the first label is canonical.</returns>
    internal static bool TryParseStatefulSetLabel(string hostname, out int setLength, out int ordinal)
    {
        setLength = 0;
        ordinal = 0;
        ReadOnlySpan<char> label = hostname.AsSpan();
        int dot = label.IndexOf('.');
        if (dot >= 0)
        {
            label = label[..dot];
        }

        int dash = label.LastIndexOf('-');
        if (label.Length > 63 || dash <= 0 || label.ContainsAnyExcept(LabelChars))
        {
            return false;
        }

        ReadOnlySpan<char> name = label[..dash];
        ReadOnlySpan<char> digits = label[(dash + 1)..];
        if (!IsStatefulSetName(name)
            || digits.IsEmpty || digits.ContainsAnyExceptInRange('0', '9') || (digits[0] == '0' && digits.Length > 1)
            || !int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out ordinal)
            || IsDashedIp(label))
        {
            ordinal = 0;
            return false;
        }

        setLength = name.Length;
        return true;
    }

    /// <summary>
    /// Whether <paramref name="name"/> can be the set part of a canonical pod hostname: 1 to 61 lower-case letters,
    /// digits and '-', starting with a letter or digit and not ending with '-'.
    /// </summary>
    internal static bool IsStatefulSetName(ReadOnlySpan<char> name) =>
        name.Length is > 0 and <= 61 && name[0] != '-' && name[^1] != '-' && !name.ContainsAnyExcept(LabelChars);

    /// <summary>Whether <paramref name="label"/> is a pod IP written with dashes, as CoreDNS names pods without a hostname.</summary>
    private static bool IsDashedIp(ReadOnlySpan<char> label)
    {
        int octets = 0;
        foreach (Range part in label.Split('-'))
        {
            ReadOnlySpan<char> octet = label[part];
            if (++octets > 4 || octet.Length is 0 or > 3 || !byte.TryParse(octet, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                octets = -1;
                break;
            }
        }

        if (octets == 4)
        {
            return true;
        }

        if (label.ContainsAnyExcept(HexAndDash))
        {
            return false;
        }

        Span<char> colons = stackalloc char[label.Length];
        label.CopyTo(colons);
        colons.Replace('-', ':');
        return IPAddress.TryParse(colons, out IPAddress? address) && address.AddressFamily == AddressFamily.InterNetworkV6;
    }
}
