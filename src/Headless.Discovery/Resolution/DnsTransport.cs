using System.Collections.Concurrent;
using System.Net;
using DnsClient;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Headless.Discovery;

/// <summary>
/// What sends DNS queries for every resolver in the process that asks the same name servers the same way: one DnsClient
/// <see cref="LookupClient"/>, one retry pipeline and one attempt-timeout pipeline per distinct (name servers, attempt
/// timeout, retries, retry base delay, clock). A hundred services against the cluster's DNS share one transport instead
/// of holding a client and two pipelines each.
/// </summary>
/// <remarks>
/// Shared transports are held weakly: one lives while a resolver uses it. Every query first takes a slot of its first
/// name server's process-wide gate (<see cref="NameServerGate"/>), then starts its attempts and their timeouts: a query
/// waiting for a slot never times out for it, and a burst (hundreds of services starting at once) reaches the server at
/// most <see cref="NameServerGate.MaxInFlight"/> queries at a time instead of all at once.
/// </remarks>
internal sealed class DnsTransport
{
    private static readonly ConcurrentDictionary<Key, WeakReference<DnsTransport>> Shared = new();
    private static int _sharedSinceSweep;

    private DnsTransport(IReadOnlyList<NameServer> servers, TimeSpan attemptTimeout, int retryCount, TimeSpan retryBaseDelay, TimeProvider timeProvider)
    {
        Servers = servers.Select(s => new[] { s }).ToArray();
        EndPoints = servers.Select(s => new IPEndPoint(IPAddress.Parse(s.Address), s.Port)).ToArray();
        Gate = EndPoints.Length == 0 ? null : NameServerGate.For(EndPoints[0]);
        AttemptTimeout = attemptTimeout;

        // Polly owns timeouts and retries; DnsClient must neither retry, cache, nor move on to other servers by itself.
        QuerySettings = new DnsQuerySettings(PollyOwnsRetries(new DnsQueryOptions { Recursion = true }));
        if (servers.Count > 0)
        {
            Client = new LookupClient(PollyOwnsRetries(new LookupClientOptions([.. servers]) { AutoResolveNameServers = false }));
        }

        Pipeline = BuildPipeline(attemptTimeout, retryCount, retryBaseDelay, timeProvider);
        TimeProvider = timeProvider;
        Patience = attemptTimeout * (retryCount + 1);
    }

    /// <summary>Called before each retry's delay, with the attempt that failed and the delay: logging.</summary>
    internal delegate void RetryObserver(ResilienceContext context, int attempt, Outcome<IDnsQueryResponse> outcome, TimeSpan delay);

    /// <summary>The client; <see langword="null"/> when there is no name server.</summary>
    public LookupClient? Client { get; }

    /// <summary>Each name server alone, as DnsClient's per-server query takes it; attempt <c>n</c> uses <c>n mod count</c>.</summary>
    public NameServer[][] Servers { get; }

    /// <summary>The name servers' endpoints, in the same order.</summary>
    public IPEndPoint[] EndPoints { get; }

    /// <summary>The first name server's process-wide gate, of which every query holds a slot; <see langword="null"/> without name servers.</summary>
    public NameServerGate? Gate { get; }

    public TimeSpan AttemptTimeout { get; }

    /// <summary>The clock of the attempt timeouts, retry delays and <see cref="Patience"/>.</summary>
    public TimeProvider TimeProvider { get; }

    /// <summary>
    /// How long a query waits for a slot of the gate at most: as long as its attempts could take at worst (attempt timeout
    /// × (retries + 1)). Past that the server is taken as slow or down and the query fails without being sent, as fast
    /// as if it had been sent and timed out, so a queue of services behind a dead server notices as soon as without the gate.
    /// </summary>
    public TimeSpan Patience { get; }

    public DnsQuerySettings QuerySettings { get; }

    /// <summary>Retries around attempts, each attempt under its timeout.</summary>
    public ResiliencePipeline<IDnsQueryResponse> Pipeline { get; }

    /// <summary>Where a retry reports itself: set per query in the resilience context's properties.</summary>
    public static ResiliencePropertyKey<RetryObserver> ObserverKey { get; } = new("Headless.Discovery.DnsRetryObserver");

    /// <summary>The transport for these settings, shared with every other resolver in the process that asks the same.</summary>
    public static DnsTransport For(IReadOnlyList<NameServer> servers, TimeSpan attemptTimeout, int retryCount, TimeSpan retryBaseDelay, TimeProvider timeProvider)
    {
        var key = new Key(string.Join(",", servers.Select(s => s.ToString())), attemptTimeout, retryCount, retryBaseDelay, timeProvider);
        while (true)
        {
            WeakReference<DnsTransport> entry = Shared.GetOrAdd(key, static (_, args) => new WeakReference<DnsTransport>(
                new DnsTransport(args.servers, args.attemptTimeout, args.retryCount, args.retryBaseDelay, args.timeProvider)),
                (servers, attemptTimeout, retryCount, retryBaseDelay, timeProvider));
            if (entry.TryGetTarget(out DnsTransport? transport))
            {
                SweepNow();
                return transport;
            }

            // Collected after its last resolver went: replace it (unless another thread just did).
            var fresh = new DnsTransport(servers, attemptTimeout, retryCount, retryBaseDelay, timeProvider);
            if (Shared.TryUpdate(key, new WeakReference<DnsTransport>(fresh), entry))
            {
                return fresh;
            }
        }
    }

    /// <summary>Every 64th lookup drops the entries whose transport was collected, so distinct settings do not pile up.</summary>
    private static void SweepNow()
    {
        if (Interlocked.Increment(ref _sharedSinceSweep) % 64 != 0)
        {
            return;
        }

        foreach (KeyValuePair<Key, WeakReference<DnsTransport>> entry in Shared)
        {
            if (!entry.Value.TryGetTarget(out _))
            {
                Shared.TryRemove(entry);
            }
        }
    }

    /// <summary>DnsClient settings under which Polly alone owns timeouts and retries.</summary>
    private static T PollyOwnsRetries<T>(T options)
        where T : DnsQueryOptions
    {
        options.UseCache = false;
        options.CacheFailedResults = false;
        options.Retries = 0;
        options.ThrowDnsErrors = false;
        // Truncated answers are asked again over TCP by DnsTcpQuery, never over DnsClient's pooled TCP connections.
        options.UseTcpFallback = false;
        options.Timeout = Timeout.InfiniteTimeSpan;
        options.ContinueOnDnsError = false;
        options.ContinueOnEmptyResponse = false;
        options.EnableAuditTrail = false;
        options.UseRandomNameServer = false;
        return options;
    }

    private static ResiliencePipeline<IDnsQueryResponse> BuildPipeline(TimeSpan attemptTimeout, int retryCount, TimeSpan retryBaseDelay, TimeProvider timeProvider)
    {
        var builder = new ResiliencePipelineBuilder<IDnsQueryResponse> { TimeProvider = timeProvider };
        if (retryCount > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<IDnsQueryResponse>
            {
                MaxRetryAttempts = retryCount,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = retryBaseDelay,
                MaxDelay = TimeSpan.FromSeconds(30),
                ShouldHandle = static args => new ValueTask<bool>(DnsQueryRunner.IsTransient(args.Outcome)),
                OnRetry = static args =>
                {
                    if (args.Context.Properties.TryGetValue(ObserverKey, out RetryObserver? observer))
                    {
                        observer(args.Context, args.AttemptNumber + 1, args.Outcome, args.RetryDelay);
                    }

                    return default;
                },
            });
        }

        // The generator, unlike the Timeout property, accepts attempt timeouts below Polly's 10 ms validation floor.
        builder.AddTimeout(new TimeoutStrategyOptions { TimeoutGenerator = _ => new ValueTask<TimeSpan>(attemptTimeout) });
        return builder.Build();
    }

    private sealed record Key(string Servers, TimeSpan AttemptTimeout, int RetryCount, TimeSpan RetryBaseDelay, TimeProvider TimeProvider);
}

/// <summary>
/// A process-wide bound on the DNS queries in flight to one name server, shared by every resolver and transport that
/// asks it. Waiting for a slot does not count against an attempt's timeout.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Gates live as long as the process; a SemaphoreSlim whose AvailableWaitHandle is never read holds nothing to dispose.")]
internal sealed class NameServerGate
{
    /// <summary>
    /// Queries in flight to one name server from this process, at most: 16. Below dnsmasq's limit of 20 concurrent TCP
    /// connections (a truncated answer's TCP query holds its slot), and enough that hundreds of services starting at once
    /// are answered within milliseconds of each other by a healthy server instead of overflowing its receive queue.
    /// </summary>
    public const int MaxInFlight = 16;

    private static readonly ConcurrentDictionary<IPEndPoint, NameServerGate> Gates = new();

    private readonly SemaphoreSlim _slots = new(MaxInFlight, MaxInFlight);

    /// <summary>The gate of <paramref name="server"/>, one per endpoint in the process.</summary>
    public static NameServerGate For(IPEndPoint server) => Gates.GetOrAdd(server, static _ => new NameServerGate());

    /// <summary>
    /// Waits for a slot, at most <paramref name="patience"/> on <paramref name="timeProvider"/>'s clock; dispose the
    /// result to give it back. A slot that is not <see cref="Slot.IsTaken"/> means the patience ran out.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public ValueTask<Slot> EnterAsync(TimeSpan patience, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return _slots.Wait(0, CancellationToken.None) ? new ValueTask<Slot>(new Slot(_slots)) : WaitAsync(patience, timeProvider, cancellationToken);
    }

    private async ValueTask<Slot> WaitAsync(TimeSpan patience, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        using var expired = new CancellationTokenSource(patience, timeProvider);
        using CancellationTokenSource linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, expired.Token);
        try
        {
            await _slots.WaitAsync(linked.Token).ConfigureAwait(false);
            return new Slot(_slots);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return default;
        }
    }

    /// <summary>A held slot.</summary>
    internal readonly struct Slot(SemaphoreSlim slots) : IDisposable
    {
        /// <summary>Whether a slot is held (<see langword="false"/>: the wait ran out of patience, or none was taken).</summary>
        public bool IsTaken => slots is not null;

        public void Dispose() => slots?.Release(); // default: no slot was taken
    }
}
