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

    private const int MaxRecordedQueries = 100_000;
    private const int PortProbeAttempts = 20;
    private const int TransportTimeoutMilliseconds = 5000;
    private const int TcpKeepAliveMilliseconds = 10_000;
    private static readonly TimeSpan DisposeDrainTimeout = TimeSpan.FromSeconds(5);

    private readonly object _gate = new();
    private readonly Dictionary<string, ZoneEntry> _zone = new(StringComparer.Ordinal);
    private readonly Dictionary<string, FaultRule> _nameFaults = new(StringComparer.Ordinal);
    private readonly List<DnsQueryInfo> _queries = [];
    private readonly List<QueryWaiter> _waiters = [];
    private readonly HashSet<Task> _inflight = [];
    private readonly CancellationTokenSource _disposeCts = new();

    private FaultRule? _globalFault;
    private TimeSpan _responseDelay;
    private TimeSpan _negativeTtl = DefaultTtl;
    private bool _paused;
    private bool _disposed;
    private long _totalQueries;
    private int _maxConcurrentQueries;
    private long _udpQueries;
    private long _tcpQueries;
    private readonly Dictionary<DnsRecordType, long> _queriesByType = [];

    private Listener? _udpServer;
    private Listener? _tcpServer;

    private EmbeddedDnsServer(IPEndPoint endPoint)
    {
        EndPoint = endPoint;
        NameServer = endPoint.ToString();
    }

    /// <summary>The loopback address and port the server answers on, for both UDP and TCP.</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>
    /// The server as an <c>"ip:port"</c> string (IPv6 as <c>"[::1]:port"</c>), e.g. for a name-server option.
    /// </summary>
    public string NameServer { get; }

    /// <summary>
    /// A delay applied to every query before it is answered (including fault answers; not to dropped queries).
    /// A delay longer than the client's timeout simulates a slow server. Default <see cref="TimeSpan.Zero"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public TimeSpan ResponseDelay
    {
        get { lock (_gate) { return _responseDelay; } }
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            lock (_gate) { _responseDelay = value; }
        }
    }

    /// <summary>
    /// The TTL of the SOA record sent with NXDOMAIN and NODATA answers (the negative-caching TTL), whole seconds.
    /// Default 5 seconds.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative or above <see cref="int.MaxValue"/> seconds.</exception>
    public TimeSpan NegativeTtl
    {
        get { lock (_gate) { return _negativeTtl; } }
        set
        {
            _ = ToTtlSeconds(value, nameof(value));
            lock (_gate) { _negativeTtl = value; }
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
        get { lock (_gate) { return _tcpServer is not null; } }
        set
        {
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                if (value && _tcpServer is null)
                {
                    _tcpServer = CreateAndStart(new TcpDnsTransport(EndPoint, TransportTimeoutMilliseconds, TcpKeepAliveMilliseconds));
                }
                else if (!value && _tcpServer is not null)
                {
                    StopQuietly(_tcpServer);
                    _tcpServer = null;
                }
            }
        }
    }

    /// <summary>Whether the server is paused (see <see cref="Pause"/>).</summary>
    public bool IsPaused
    {
        get { lock (_gate) { return _paused; } }
    }

    /// <summary>The number of queries received since start or the last <see cref="ResetCounters"/>, including faulted and dropped ones.</summary>
    public long TotalQueries => Interlocked.Read(ref _totalQueries);

    /// <summary>
    /// The most queries this server was handling at the same moment (received, not yet answered or dropped) since start or
    /// the last <see cref="ResetCounters"/>: how many a client had in flight at once, when <see cref="ResponseDelay"/>
    /// holds each answer long enough to overlap.
    /// </summary>
    public int MaxConcurrentQueries
    {
        get { lock (_gate) { return _maxConcurrentQueries; } }
    }

    /// <summary>The number of queries received over UDP since start or the last <see cref="ResetCounters"/>.</summary>
    public long UdpQueries => Interlocked.Read(ref _udpQueries);

    /// <summary>The number of queries received over TCP since start or the last <see cref="ResetCounters"/>.</summary>
    public long TcpQueries => Interlocked.Read(ref _tcpQueries);

    /// <summary>
    /// The queries received since start or the last <see cref="ResetCounters"/>, oldest first (a snapshot; at most the
    /// first 100,000 are kept).
    /// </summary>
    public IReadOnlyList<DnsQueryInfo> Queries
    {
        get { lock (_gate) { return [.. _queries]; } }
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
            var candidate = port != 0 ? port : ProbeFreePort(address);
            var server = new EmbeddedDnsServer(new IPEndPoint(address, candidate));
            try
            {
                server.Start();
                return Task.FromResult(server);
            }
            catch (SocketException) when (port == 0 && attempt < PortProbeAttempts)
            {
                // Another process took the probed port between the probe and the bind: try another one.
                server.StopListeners();
            }
            catch
            {
                server.StopListeners();
                throw;
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
        var key = NormalizeName(name);
        ArgumentNullException.ThrowIfNull(addresses);
        var ttlSeconds = ToTtlSeconds(ttl ?? DefaultTtl, nameof(ttl));
        var v4 = new List<IPAddress>();
        var v6 = new List<IPAddress>();
        foreach (var address in addresses)
        {
            ArgumentNullException.ThrowIfNull(address, nameof(addresses));
            switch (address.AddressFamily)
            {
                case AddressFamily.InterNetwork: v4.Add(address); break;
                case AddressFamily.InterNetworkV6: v6.Add(address); break;
                default: throw new ArgumentException($"'{address}' is neither an IPv4 nor an IPv6 address.", nameof(addresses));
            }
        }

        var owner = DomainName.Parse(key);
        var a = v4.Select(ip => (DnsRecordBase)new ARecord(owner, ttlSeconds, ip)).ToArray();
        var aaaa = v6.Select(ip => (DnsRecordBase)new AaaaRecord(owner, ttlSeconds, ip)).ToArray();
        lock (_gate)
        {
            var entry = _zone.GetValueOrDefault(key) ?? ZoneEntry.Empty;
            _zone[key] = entry with { A = a, Aaaa = aaaa };
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
        var key = NormalizeName(name);
        ArgumentNullException.ThrowIfNull(targets);
        var ttlSeconds = ToTtlSeconds(ttl ?? DefaultTtl, nameof(ttl));
        var owner = DomainName.Parse(key);
        var records = new List<SrvRecord>();
        var targetKeys = new List<string>();
        foreach (var target in targets)
        {
            ArgumentNullException.ThrowIfNull(target, nameof(targets));
            var targetKey = NormalizeName(target.Hostname, nameof(targets));
            targetKeys.Add(targetKey);
            records.Add(new SrvRecord(owner, ttlSeconds, (ushort)target.Priority, (ushort)target.Weight, (ushort)target.Port, DomainName.Parse(targetKey)));
        }

        lock (_gate)
        {
            var entry = _zone.GetValueOrDefault(key) ?? ZoneEntry.Empty;
            _zone[key] = entry with { Srv = [.. records], SrvTargets = [.. targetKeys.Distinct(StringComparer.Ordinal)], SrvAdditional = includeAddressesInAdditionalSection };
        }
    }

    /// <summary>Removes every record of <paramref name="name"/>; it then gets NXDOMAIN.</summary>
    /// <param name="name">The owner name, case-insensitive, trailing dot optional.</param>
    /// <returns><see langword="true"/> if the name was known.</returns>
    /// <exception cref="ArgumentException">The name is not a valid DNS name.</exception>
    public bool RemoveName(string name)
    {
        var key = NormalizeName(name);
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

        var key = name is null ? null : NormalizeName(name);
        var rule = fault == DnsFault.None ? null : new FaultRule(fault, count);
        lock (_gate)
        {
            if (key is null)
            {
                _globalFault = rule;
            }
            else if (rule is null)
            {
                _nameFaults.Remove(key);
            }
            else
            {
                _nameFaults[key] = rule;
            }
        }
    }

    /// <summary>Removes every injected fault, global and per name.</summary>
    public void ClearFaults()
    {
        lock (_gate)
        {
            _globalFault = null;
            _nameFaults.Clear();
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
            _paused = true;
        }
    }

    /// <summary>Answers queries again after <see cref="Pause"/>.</summary>
    public void Resume()
    {
        lock (_gate)
        {
            _paused = false;
        }
    }

    /// <summary>The number of queries for <paramref name="type"/> since start or the last <see cref="ResetCounters"/>.</summary>
    /// <param name="type">The record type.</param>
    /// <returns>The count.</returns>
    public long GetQueryCount(DnsRecordType type)
    {
        lock (_gate)
        {
            return _queriesByType.GetValueOrDefault(type);
        }
    }

    /// <summary>Sets every counter to zero and forgets the recorded <see cref="Queries"/>.</summary>
    public void ResetCounters()
    {
        lock (_gate)
        {
            _queries.Clear();
            _queriesByType.Clear();
            Interlocked.Exchange(ref _totalQueries, 0);
            Interlocked.Exchange(ref _udpQueries, 0);
            Interlocked.Exchange(ref _tcpQueries, 0);
            _maxConcurrentQueries = _inflight.Count;
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
        QueryWaiter waiter;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            waiter = new QueryWaiter(count, predicate);
            foreach (var query in _queries)
            {
                if (waiter.Offer(query))
                {
                    return waiter.Completion.Task;
                }
            }

            _waiters.Add(waiter);
        }

        if (!cancellationToken.CanBeCanceled)
        {
            return waiter.Completion.Task;
        }

        return WaitWithCancellationAsync(waiter, cancellationToken);
    }

    /// <summary>
    /// Stops both listeners, closes the TCP connections clients keep open (they see the connection end at once),
    /// releases queries held by <see cref="DnsFault.Drop"/> or <see cref="Pause"/> without answering them, and waits
    /// (up to 5 seconds) for queries being processed. Leaves no task whose exception goes unobserved. Idempotent.
    /// </summary>
    /// <returns>A task that completes when the server has stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        List<QueryWaiter> waiters;
        Task[] inflight;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            waiters = [.. _waiters];
            _waiters.Clear();
        }

        // Close the sockets first so that released queries cannot be answered any more.
        StopListeners();
        await _disposeCts.CancelAsync().ConfigureAwait(false);
        foreach (var waiter in waiters)
        {
            waiter.Completion.TrySetException(new ObjectDisposedException(nameof(EmbeddedDnsServer)));
        }

        lock (_gate)
        {
            inflight = [.. _inflight];
        }

        try
        {
            await Task.WhenAll(inflight).WaitAsync(DisposeDrainTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A query handler that does not finish within the drain timeout is abandoned; it can no longer answer.
        }

        _disposeCts.Dispose();
    }

    private void Start()
    {
        lock (_gate)
        {
            _udpServer = CreateAndStart(new UdpServerTransport(EndPoint, TransportTimeoutMilliseconds));
            _tcpServer = CreateAndStart(new TcpDnsTransport(EndPoint, TransportTimeoutMilliseconds, TcpKeepAliveMilliseconds));
        }
    }

    private Listener CreateAndStart(IServerTransport transport)
    {
        var server = new DnsServer(transport);
        server.QueryReceived += OnQueryReceivedAsync;
        try
        {
            server.Start();
        }
        catch
        {
            server.QueryReceived -= OnQueryReceivedAsync;
            transport.Dispose();
            throw;
        }

        return new Listener(server, transport);
    }

    private void StopListeners()
    {
        Listener? udp, tcp;
        lock (_gate)
        {
            (udp, tcp) = (_udpServer, _tcpServer);
            (_udpServer, _tcpServer) = (null, null);
        }

        StopQuietly(udp);
        StopQuietly(tcp);
    }

    private void StopQuietly(Listener? listener)
    {
        if (listener is null)
        {
            return;
        }

        listener.Server.QueryReceived -= OnQueryReceivedAsync;
        try
        {
            listener.Server.Stop();
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or AggregateException)
        {
            // Stopping a listener whose socket is already gone is fine.
        }
        finally
        {
            // DnsServer.Stop does not reliably close the socket in ARSoft 3.6.1; disposing the transport does.
            listener.Transport.Dispose();
        }
    }

    private async Task OnQueryReceivedAsync(object sender, QueryReceivedEventArgs e)
    {
        var task = HandleQueryAsync(e);
        lock (_gate)
        {
            _inflight.Add(task);
            _maxConcurrentQueries = Math.Max(_maxConcurrentQueries, _inflight.Count);
        }

        try
        {
            // Exceptions flow back to ARSoft, which reports them and answers SERVFAIL.
            await task.ConfigureAwait(false);
        }
        finally
        {
            lock (_gate)
            {
                _inflight.Remove(task);
            }
        }
    }

    private async Task HandleQueryAsync(QueryReceivedEventArgs e)
    {
        if (e.Query is not DnsMessage query || query.Questions.Count == 0)
        {
            // ARSoft answers a null response with a failure response.
            return;
        }

        var question = query.Questions[0];
        var name = NormalizeQueryName(question.Name);
        var type = (DnsRecordType)(int)question.RecordType;
        var transport = e.TransportProtocol == TransportProtocol.Udp ? DnsTransport.Udp : DnsTransport.Tcp;

        DnsFault fault;
        TimeSpan delay;
        ZoneEntry? entry;
        Dictionary<string, ZoneEntry>? targets = null;
        TimeSpan negativeTtl;
        lock (_gate)
        {
            fault = _paused ? DnsFault.Drop : TakeFault(name, transport);
            delay = _responseDelay;
            negativeTtl = _negativeTtl;
            entry = _zone.GetValueOrDefault(name);
            if (entry is { SrvAdditional: true, Srv.Length: > 0 } && type is DnsRecordType.Srv or DnsRecordType.Any)
            {
                targets = entry.SrvTargets
                    .Select(t => (Key: t, Entry: _zone.GetValueOrDefault(t)))
                    .Where(t => t.Entry is not null)
                    .ToDictionary(t => t.Key, t => t.Entry!, StringComparer.Ordinal);
            }

            Record(new DnsQueryInfo(name, type, transport, fault), transport, type);
        }

        var response = query.CreateResponseInstance();
        response.IsAuthoritiveAnswer = true;
        response.IsRecursionAllowed = false;
        e.Response = response;
        try
        {
            if (fault == DnsFault.Drop)
            {
                // Held until disposal, when the sockets are already closed: the client never gets an answer.
                await Task.Delay(Timeout.InfiniteTimeSpan, _disposeCts.Token).ConfigureAwait(false);
            }

            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, _disposeCts.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            response.ReturnCode = ReturnCode.ServerFailure;
            return;
        }

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

        AddAnswers(response, entry, type, targets);
        if (response.AnswerRecords.Count == 0)
        {
            response.AuthorityRecords.Add(CreateSoa(question.Name, negativeTtl));
        }
    }

    private static void AddAnswers(DnsMessage response, ZoneEntry entry, DnsRecordType type, Dictionary<string, ZoneEntry>? targets)
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
            if (targets is not null)
            {
                foreach (var target in targets.Values)
                {
                    response.AdditionalRecords.AddRange(target.A);
                    response.AdditionalRecords.AddRange(target.Aaaa);
                }
            }
        }
    }

    private DnsFault TakeFault(string name, DnsTransport transport)
    {
        var hasNameRule = _nameFaults.TryGetValue(name, out var rule);
        rule = hasNameRule ? rule : _globalFault;
        if (rule is null || (rule.Fault == DnsFault.Truncate && transport == DnsTransport.Tcp))
        {
            return DnsFault.None;
        }

        if (rule.Remaining is { } remaining)
        {
            if (remaining <= 1)
            {
                if (hasNameRule)
                {
                    _nameFaults.Remove(name);
                }
                else
                {
                    _globalFault = null;
                }
            }
            else
            {
                rule.Remaining = remaining - 1;
            }
        }

        return rule.Fault;
    }

    // Called under _gate. Waiters complete asynchronously (RunContinuationsAsynchronously), so completing them here is safe.
    private void Record(DnsQueryInfo info, DnsTransport transport, DnsRecordType type)
    {
        Interlocked.Increment(ref _totalQueries);
        Interlocked.Increment(ref transport == DnsTransport.Udp ? ref _udpQueries : ref _tcpQueries);
        _queriesByType[type] = _queriesByType.GetValueOrDefault(type) + 1;
        if (_queries.Count < MaxRecordedQueries)
        {
            _queries.Add(info);
        }

        for (var i = _waiters.Count - 1; i >= 0; i--)
        {
            if (_waiters[i].Offer(info))
            {
                _waiters.RemoveAt(i);
            }
        }
    }

    private async Task<IReadOnlyList<DnsQueryInfo>> WaitWithCancellationAsync(QueryWaiter waiter, CancellationToken cancellationToken)
    {
        try
        {
            return await waiter.Completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            lock (_gate)
            {
                _waiters.Remove(waiter);
            }

            throw;
        }
    }

    private static SoaRecord CreateSoa(DomainName queried, TimeSpan negativeTtl)
    {
        // Kubernetes' CoreDNS answers with the SOA of the cluster zone; the last two labels are a fair stand-in.
        var apex = queried.LabelCount > 2 ? queried.GetParentName(queried.LabelCount - 2) : queried;
        var ttl = ToTtlSeconds(negativeTtl, nameof(negativeTtl));
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

    private static string NormalizeQueryName(DomainName name) =>
        name.ToString(true).TrimEnd('.').ToLowerInvariant();

    private static string NormalizeName(string name, string? paramName = null)
    {
        paramName ??= nameof(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(name, paramName);
        var trimmed = name.Trim();
        if (trimmed.EndsWith('.'))
        {
            trimmed = trimmed[..^1];
        }

        if (trimmed.Length == 0 || trimmed.Length > 253 || trimmed.Contains("..", StringComparison.Ordinal)
            || !DomainName.TryParse(trimmed, out var parsed) || parsed is null || parsed.Labels.Any(l => l.Length is 0 or > 63))
        {
            throw new ArgumentException($"'{name}' is not a valid DNS name.", paramName);
        }

        return trimmed.ToLowerInvariant();
    }

    private static int ToTtlSeconds(TimeSpan ttl, string paramName)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ttl, TimeSpan.Zero, paramName);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ttl, TimeSpan.FromSeconds(int.MaxValue), paramName);
        return (int)ttl.TotalSeconds;
    }

    private static int ProbeFreePort(IPAddress address)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var probe = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            probe.Bind(new IPEndPoint(address, 0));
            var port = ((IPEndPoint)probe.LocalEndPoint!).Port;
            try
            {
                using var udpProbe = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
                udpProbe.Bind(new IPEndPoint(address, port));
                return port;
            }
            catch (SocketException) when (attempt < PortProbeAttempts)
            {
                // The TCP port is free but its UDP twin is taken: probe another one.
            }
        }
    }

    private sealed record Listener(DnsServer Server, IServerTransport Transport);

    private sealed record ZoneEntry(DnsRecordBase[] A, DnsRecordBase[] Aaaa, DnsRecordBase[] Srv, string[] SrvTargets, bool SrvAdditional)
    {
        public static readonly ZoneEntry Empty = new([], [], [], [], true);
    }

    private sealed class FaultRule(DnsFault fault, int? remaining)
    {
        public DnsFault Fault { get; } = fault;

        public int? Remaining { get; set; } = remaining;
    }

    private sealed class QueryWaiter(int count, Func<DnsQueryInfo, bool> predicate)
    {
        private readonly List<DnsQueryInfo> _matches = [];

        public TaskCompletionSource<IReadOnlyList<DnsQueryInfo>> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        // Returns true when the waiter is done (completed or faulted by its predicate).
        public bool Offer(DnsQueryInfo info)
        {
            try
            {
                if (predicate(info))
                {
                    _matches.Add(info);
                }
            }
#pragma warning disable CA1031 // A throwing user predicate fails its own wait, never the DNS server.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Completion.TrySetException(ex);
                return true;
            }

            if (_matches.Count >= count)
            {
                Completion.TrySetResult([.. _matches]);
                return true;
            }

            return false;
        }
    }
}
