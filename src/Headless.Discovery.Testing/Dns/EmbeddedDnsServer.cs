using System.Net;
using System.Net.Sockets;
using ARSoft.Tools.Net;
using ARSoft.Tools.Net.Dns;

namespace Headless.Discovery.Testing;

/// <summary>
/// A small in-process authoritative DNS server on a loopback address, serving A, AAAA and SRV records from an
/// in-memory zone, with fault injection (SERVFAIL, NXDOMAIN, REFUSED, dropped and truncated answers), an answer
/// delay, pause/resume and query counters. It answers on UDP and TCP on the same port. Wraps ARSoft.Tools.Net's
/// <c>DnsServer</c>.
/// </summary>
/// <remarks>
/// <para>
/// Every member is thread-safe: zone data, faults and settings may change while queries are being answered; each
/// query sees one consistent view. Names are case-insensitive and a trailing dot is optional.
/// </para>
/// <para>
/// Unknown names get NXDOMAIN, known names without records of the asked type get NOERROR with an empty answer
/// (NODATA); both carry an SOA record in the authority section whose minimum TTL is <see cref="NegativeTtl"/>.
/// UDP answers larger than 512 bytes (or the client's EDNS buffer size) are truncated with the TC bit set, so clients
/// retry over TCP; TCP answers can hold up to 64 KiB (about 4000 A records or 2300 AAAA records), larger answers
/// become SERVFAIL.
/// </para>
/// <para>
/// Time is wall-clock time (delays must be real for a DNS client's timeout to fire).
/// </para>
/// </remarks>
public sealed class EmbeddedDnsServer : IAsyncDisposable
{
    /// <summary>The default record TTL, 5 seconds, as CoreDNS uses for Kubernetes services.</summary>
    public static readonly TimeSpan DefaultTtl = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan DisposeDrainTimeout = TimeSpan.FromSeconds(5);

    // One lock for zone, faults, settings and journal, so each query sees one consistent view and is recorded in the
    // order its fault was taken.
    private readonly Lock _gate = new();
    private readonly DnsZone _zone = new();
    private readonly DnsFaultPlan _faults = new();
    private readonly DnsQueryJournal _journal;
    private readonly DnsQueryHandler _handler;
    private readonly DnsListeners _listeners;
    private bool _disposed;

    private EmbeddedDnsServer(IPEndPoint endPoint)
    {
        EndPoint = endPoint;
        NameServer = endPoint.ToString();
        _journal = new DnsQueryJournal(_gate);
        _handler = new DnsQueryHandler(_gate, _zone, _faults, _journal);
        _listeners = new DnsListeners(endPoint, _handler.OnQueryReceivedAsync);
    }

    /// <summary>The loopback address and port the server answers on, for both UDP and TCP.</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>The server as an <c>"ip:port"</c> string (IPv6 as <c>"[::1]:port"</c>), e.g. for a name-server option.</summary>
    public string NameServer { get; }

    /// <summary>
    /// A delay applied to every query before it is answered (including fault answers; not to dropped queries).
    /// A delay longer than the client's timeout simulates a slow server. Default <see cref="TimeSpan.Zero"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public TimeSpan ResponseDelay
    {
        get { lock (_gate) { return _handler.ResponseDelay; } }
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            lock (_gate) { _handler.ResponseDelay = value; }
        }
    }

    /// <summary>
    /// The TTL of the SOA record sent with NXDOMAIN and NODATA answers (the negative-caching TTL), whole seconds.
    /// Default 5 seconds.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative or above <see cref="int.MaxValue"/> seconds.</exception>
    public TimeSpan NegativeTtl
    {
        get { lock (_gate) { return _handler.NegativeTtl; } }
        set
        {
            _ = DnsNames.ToTtlSeconds(value, nameof(value));
            lock (_gate) { _handler.NegativeTtl = value; }
        }
    }

    /// <summary>
    /// Whether the TCP listener is open. Default <see langword="true"/>. Setting it to <see langword="false"/> closes
    /// the TCP listener and the connections clients keep open, so TCP connections are refused (UDP keeps working);
    /// setting it back re-opens it on the same port.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The server is disposed.</exception>
    /// <exception cref="SocketException">Re-opening failed because another socket took the TCP port meanwhile.</exception>
    public bool TcpEnabled
    {
        get { lock (_gate) { return _listeners.TcpOpen; } }
        set
        {
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                _listeners.SetTcpOpen(value);
            }
        }
    }

    /// <summary>Whether the server is paused (see <see cref="Pause"/>).</summary>
    public bool IsPaused { get { lock (_gate) { return _faults.Paused; } } }

    /// <summary>The number of queries received since start or the last <see cref="ResetCounters"/>, including faulted and dropped ones.</summary>
    public long TotalQueries => _journal.Total;

    /// <summary>
    /// The most queries this server was handling at the same moment (received, not yet answered or dropped) since start or
    /// the last <see cref="ResetCounters"/>: how many a client had in flight at once, when <see cref="ResponseDelay"/>
    /// holds each answer long enough to overlap.
    /// </summary>
    public int MaxConcurrentQueries
    {
        get { lock (_gate) { return _handler.MaxConcurrent; } }
    }

    /// <summary>The number of queries received over UDP since start or the last <see cref="ResetCounters"/>.</summary>
    public long UdpQueries => _journal.Udp;

    /// <summary>The number of queries received over TCP since start or the last <see cref="ResetCounters"/>.</summary>
    public long TcpQueries => _journal.Tcp;

    /// <summary>
    /// The queries received since start or the last <see cref="ResetCounters"/>, oldest first (a snapshot; at most the
    /// first 100,000 are kept).
    /// </summary>
    public IReadOnlyList<DnsQueryInfo> Queries
    {
        get { lock (_gate) { return _journal.Snapshot(); } }
    }

    /// <summary>
    /// Starts a server on <paramref name="address"/> and <paramref name="port"/>, answering on UDP and TCP.
    /// </summary>
    /// <param name="address">A loopback address (127.0.0.0/8 or ::1). Default <c>127.0.0.1</c>.</param>
    /// <param name="port">The port, or 0 (the default) to pick one that is free for both UDP and TCP.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running server; dispose it to stop it.</returns>
    /// <exception cref="ArgumentException"><paramref name="address"/> is not a loopback address.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="port"/> is outside 0 to 65535.</exception>
    /// <exception cref="SocketException">The port is in use (or no free port was found after 20 attempts).</exception>
    public static Task<EmbeddedDnsServer> StartAsync(IPAddress? address = null, int port = 0, CancellationToken cancellationToken = default)
    {
        address ??= IPAddress.Loopback;
        if (!IPAddress.IsLoopback(address))
        {
            throw new ArgumentException($"The embedded DNS server only listens on loopback addresses; '{address}' is not one.", nameof(address));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, IPEndPoint.MaxPort);

        for (var attempt = 1; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var candidate = port != 0 ? port : DnsPortProbe.FindFreePort(address);
            var server = new EmbeddedDnsServer(new IPEndPoint(address, candidate));
            try
            {
                // Not shared yet: no lock needed.
                server._listeners.Start();
                return Task.FromResult(server);
            }
            catch (Exception ex)
            {
                server._listeners.StopAll(server._gate);

                // Another process may have taken the probed port between the probe and the bind: then try another one.
                if (ex is not SocketException || port != 0 || attempt >= DnsPortProbe.Attempts)
                {
                    throw;
                }
            }
        }
    }

    /// <summary>
    /// Sets the addresses of <paramref name="name"/>: IPv4 addresses are served as A records, IPv6 ones as AAAA
    /// records. Replaces earlier addresses of that name and keeps its SRV records. An empty list keeps the name
    /// known, so queries get NODATA rather than NXDOMAIN.
    /// </summary>
    /// <param name="name">The owner name, case-insensitive, trailing dot optional.</param>
    /// <param name="addresses">The addresses, served in this order.</param>
    /// <param name="ttl">The TTL, whole seconds (fractions are truncated). Default 5 seconds.</param>
    /// <exception cref="ArgumentException">The name is not a valid DNS name, or an address is neither IPv4 nor IPv6.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="addresses"/> or one of its items is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="ttl"/> is negative or too large.</exception>
    public void SetAddresses(string name, IEnumerable<IPAddress> addresses, TimeSpan? ttl = null)
    {
        var key = DnsNames.Normalize(name, nameof(name));
        ArgumentNullException.ThrowIfNull(addresses);
        var ttlSeconds = DnsNames.ToTtlSeconds(ttl ?? DefaultTtl, nameof(ttl));
        var (a, aaaa) = DnsZone.AddressRecords(key, addresses, ttlSeconds);
        lock (_gate)
        {
            _zone.SetAddresses(key, a, aaaa);
        }
    }

    /// <summary>
    /// Sets the SRV records of <paramref name="name"/> (e.g. <c>_http._tcp.web.default.svc.cluster.local</c>).
    /// Replaces earlier SRV records of that name and keeps its addresses. The targets' addresses are those set with
    /// <see cref="SetAddresses"/> at query time.
    /// </summary>
    /// <param name="name">The owner name, case-insensitive, trailing dot optional.</param>
    /// <param name="targets">The SRV records' data, served in this order.</param>
    /// <param name="ttl">The TTL, whole seconds. Default 5 seconds.</param>
    /// <param name="includeAddressesInAdditionalSection">
    /// <see langword="true"/> (the default) to put the targets' A/AAAA records in the additional section, as CoreDNS
    /// does; <see langword="false"/> to leave it empty, so the client must look the targets up itself.
    /// </param>
    /// <exception cref="ArgumentException">A name or target host name is not a valid DNS name.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="targets"/> or one of its items is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="ttl"/> is negative or too large.</exception>
    public void SetSrvRecords(string name, IEnumerable<SrvTarget> targets, TimeSpan? ttl = null, bool includeAddressesInAdditionalSection = true)
    {
        var key = DnsNames.Normalize(name, nameof(name));
        ArgumentNullException.ThrowIfNull(targets);
        var ttlSeconds = DnsNames.ToTtlSeconds(ttl ?? DefaultTtl, nameof(ttl));
        var (records, targetKeys) = DnsZone.SrvRecords(key, targets, ttlSeconds);
        lock (_gate)
        {
            _zone.SetSrv(key, records, targetKeys, includeAddressesInAdditionalSection);
        }
    }

    /// <summary>Removes every record of <paramref name="name"/>; it then gets NXDOMAIN.</summary>
    /// <param name="name">The owner name, case-insensitive, trailing dot optional.</param>
    /// <returns><see langword="true"/> if the name was known.</returns>
    /// <exception cref="ArgumentException">The name is not a valid DNS name.</exception>
    public bool RemoveName(string name)
    {
        var key = DnsNames.Normalize(name, nameof(name));
        lock (_gate)
        {
            return _zone.Remove(key);
        }
    }

    /// <summary>Removes every name from the zone (faults, settings and counters are kept).</summary>
    public void Clear()
    {
        lock (_gate)
        {
            _zone.Clear();
        }
    }

    /// <summary>
    /// Injects a fault: queries for <paramref name="name"/> (or for every name when it is null) get
    /// <paramref name="fault"/> instead of their normal answer, for the next <paramref name="count"/> matching queries
    /// or until cleared. A fault for a name takes precedence over the global one. Injecting replaces the previous fault
    /// for the same scope; <see cref="DnsFault.None"/> removes it.
    /// </summary>
    /// <param name="fault">The fault.</param>
    /// <param name="name">The name it applies to, or <see langword="null"/> (the default) for every name.</param>
    /// <param name="count">How many queries it applies to, or <see langword="null"/> (the default) for all until cleared.</param>
    /// <exception cref="ArgumentException">The name is not a valid DNS name.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is not positive, or <paramref name="fault"/> is undefined.</exception>
    public void InjectFault(DnsFault fault, string? name = null, int? count = null)
    {
        if (!Enum.IsDefined(fault))
        {
            throw new ArgumentOutOfRangeException(nameof(fault), fault, "Unknown fault.");
        }

        if (count is { } n)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n, nameof(count));
        }

        var key = name is null ? null : DnsNames.Normalize(name, nameof(name));
        lock (_gate)
        {
            _faults.Inject(fault, key, count);
        }
    }

    /// <summary>Removes every injected fault, global and per name.</summary>
    public void ClearFaults()
    {
        lock (_gate)
        {
            _faults.Clear();
        }
    }

    /// <summary>
    /// Stops answering: queries are still received and counted, but never answered (clients time out), as in an
    /// outage. The ports stay bound. Queries received while paused stay unanswered after <see cref="Resume"/>.
    /// </summary>
    public void Pause()
    {
        lock (_gate)
        {
            _faults.Paused = true;
        }
    }

    /// <summary>Answers queries again after <see cref="Pause"/>.</summary>
    public void Resume()
    {
        lock (_gate)
        {
            _faults.Paused = false;
        }
    }

    /// <summary>The number of queries for <paramref name="type"/> since start or the last <see cref="ResetCounters"/>.</summary>
    /// <param name="type">The record type.</param>
    /// <returns>The count.</returns>
    public long GetQueryCount(DnsRecordType type)
    {
        lock (_gate)
        {
            return _journal.CountOf(type);
        }
    }

    /// <summary>Sets every counter to zero and forgets the recorded <see cref="Queries"/>.</summary>
    public void ResetCounters()
    {
        lock (_gate)
        {
            _journal.Reset();
            _handler.ResetMaxConcurrent();
        }
    }

    /// <summary>
    /// Waits until at least <paramref name="count"/> recorded queries match <paramref name="predicate"/>, counting
    /// queries already received since start or the last <see cref="ResetCounters"/>, so there is no race with a query
    /// sent before the call. A query counts when it is received, before it is answered.
    /// </summary>
    /// <param name="count">How many matching queries to wait for. Default 1.</param>
    /// <param name="predicate">Which queries count, or <see langword="null"/> (the default) for all.</param>
    /// <param name="cancellationToken">Cancels the wait; use it (or <see cref="Task.WaitAsync(TimeSpan)"/>) as the timeout.</param>
    /// <returns>The first <paramref name="count"/> matching queries.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is not positive.</exception>
    /// <exception cref="OperationCanceledException">The wait was canceled.</exception>
    /// <exception cref="ObjectDisposedException">The server was disposed before enough queries arrived.</exception>
    public Task<IReadOnlyList<DnsQueryInfo>> WaitForQueriesAsync(int count = 1, Func<DnsQueryInfo, bool>? predicate = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        predicate ??= static _ => true;
        DnsQueryJournal.QueryWaiter waiter;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            waiter = _journal.AddWaiter(count, predicate);
        }

        return _journal.WaitAsync(waiter, cancellationToken);
    }

    /// <summary>
    /// Stops both listeners, closes the TCP connections clients keep open (they see the connection end at once),
    /// releases queries held by <see cref="DnsFault.Drop"/> or <see cref="Pause"/> without answering them, and waits
    /// (up to 5 seconds) for queries being processed. Leaves no task whose exception goes unobserved. Idempotent.
    /// </summary>
    /// <returns>A task that completes when the server has stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        DnsQueryJournal.QueryWaiter[] waiters;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            waiters = _journal.RemoveAllWaiters();
        }

        // Close the sockets first so that released queries cannot be answered any more.
        _listeners.StopAll(_gate);
        await _handler.ReleaseHeldAsync().ConfigureAwait(false);
        foreach (var waiter in waiters)
        {
            waiter.Completion.TrySetException(new ObjectDisposedException(nameof(EmbeddedDnsServer)));
        }

        await _handler.DrainAsync(DisposeDrainTimeout).ConfigureAwait(false);
        _handler.Dispose();
    }
}
