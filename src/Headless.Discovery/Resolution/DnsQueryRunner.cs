using System.Net.Sockets;
using DnsClient;
using DnsClient.Protocol;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Timeout;

namespace Headless.Discovery;

/// <summary>
/// Sends one question through the resolver's <see cref="DnsTransport"/> (gate slot, retries, attempt timeouts, TCP for
/// truncated answers) and hands back the answer or the failure as a <see cref="DnsResolutionException"/>, never thrown.
/// Only the caller's cancellation is thrown, as <see cref="OperationCanceledException"/>: DnsClient reports it as a
/// timeout and Polly as a rejection, and neither may pass for the server's silence. Thread-safe.
/// </summary>
internal sealed class DnsQueryRunner
{
    private static readonly ResiliencePropertyKey<DnsAttemptState> StateKey = new("Headless.Discovery.DnsAttempt");

    private readonly DnsTransport _transport;
    private readonly TimeSpan _attemptTimeout;
    private readonly ILogger _logger;
    private readonly DnsTransport.RetryObserver _onRetry;
    private volatile DnsQuestion? _lastQuestion;

    public DnsQueryRunner(DnsTransport transport, string[] serverNames, TimeSpan attemptTimeout, ILogger logger)
    {
        _transport = transport;
        ServerNames = serverNames;
        _attemptTimeout = attemptTimeout;
        _logger = logger;
        _onRetry = LogRetry;
    }

    /// <summary>The name servers as <c>ip:port</c>, in the order attempts use them.</summary>
    public string[] ServerNames { get; }

    /// <summary>Sends <paramref name="name"/>'s <paramref name="type"/> question; the outcome holds either the answer or the error.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async ValueTask<DnsQueryOutcome> QueryAsync(string name, QueryType type, CancellationToken cancellationToken)
    {
        var state = new DnsAttemptState(this, Question(name, type), name, type);
        if (_transport.Client is null)
        {
            return new DnsQueryOutcome(state, null, DnsErrorText.NoServers(name, type));
        }

        ResilienceContext context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(StateKey, state);
        context.Properties.Set(DnsTransport.ObserverKey, _onRetry);

        NameServerGate.Slot slot = default;
        try
        {
            // A slot of the first name server's gate for the whole query (its retries included), taken before any
            // attempt timeout starts: waiting for a slot is not an attempt's time.
            DnsTransport transport = _transport;
            slot = await transport.Gate!.EnterAsync(transport.Patience, transport.TimeProvider, cancellationToken).ConfigureAwait(false);
            if (!slot.IsTaken)
            {
                return new DnsQueryOutcome(state, null, DnsErrorText.ServerBusy(name, type, ServerNames[0], transport.Patience));
            }

            IDnsQueryResponse response = await transport.Pipeline.ExecuteAsync(
                static (ctx, s) => s.Owner.AttemptAsync(s, ctx.CancellationToken),
                context,
                state).ConfigureAwait(false);
            return new DnsQueryOutcome(state, response, null);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (TimeoutRejectedException ex)
        {
            return new DnsQueryOutcome(state, null, DnsErrorText.TimedOut(state, _attemptTimeout, ex));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return new DnsQueryOutcome(state, null, DnsErrorText.Error(new DnsQueryOutcome(state, null, null), $"failed: {ex.Message}", ex));
        }
        finally
        {
            slot.Dispose();
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>Timeouts, transport errors, SERVFAIL and REFUSED are worth another attempt; NXDOMAIN, NODATA and parse errors are not.</summary>
    internal static bool IsTransient(Outcome<IDnsQueryResponse> outcome) => outcome.Exception switch
    {
        null => outcome.Result?.Header.ResponseCode is DnsHeaderResponseCode.ServerFailure or DnsHeaderResponseCode.Refused,
        TimeoutRejectedException or TimeoutException or SocketException or IOException => true,
        DnsResponseException ex => ex.Code is DnsResponseCode.ConnectionTimeout or DnsResponseCode.Unassigned
            || ex.InnerException is SocketException or IOException or TimeoutException,
        _ => false,
    };

    private async ValueTask<IDnsQueryResponse> AttemptAsync(DnsAttemptState state, CancellationToken cancellationToken)
    {
        DnsTransport transport = _transport;
        int index = state.Attempts % transport.Servers.Length;
        state.Attempts++;
        state.LastServer = index;
        state.Tried |= 1UL << (index & 63);
        try
        {
            return await transport.Client!.QueryServerAsync(transport.Servers[index], state.Question, cancellationToken).ConfigureAwait(false);
        }
        catch (DnsResponseException) when (cancellationToken.IsCancellationRequested)
        {
            // DnsClient reports a cancelled query as a timeout. Surface it as a cancellation so Polly can tell its own
            // attempt timeout (TimeoutRejectedException) from the caller's cancellation (OperationCanceledException).
            throw new OperationCanceledException(cancellationToken);
        }
        catch (DnsResponseException ex) when (IsTruncated(ex))
        {
            // Asked again below, over TCP, within this attempt's time and to the same server.
        }

        // A connection of its own, closed when the query ends: DnsClient's TCP fallback would reuse a pooled one,
        // which can answer from before the change (dnsmasq) and stays open between rounds (see DnsTcpQuery).
        return await DnsTcpQuery.QueryAsync(transport.Servers[index][0], transport.EndPoints[index], state.Name, state.Type, transport.QuerySettings, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// DnsClient 1.8 with <see cref="DnsQueryOptions.UseTcpFallback"/> off reports a truncated UDP answer (or a UDP
    /// answer too short to parse, which it treats alike) as an <see cref="DnsResponseCode.Unassigned"/> error without
    /// an inner exception; its other <see cref="DnsResponseCode.Unassigned"/> errors wrap the exception that caused them.
    /// </summary>
    private static bool IsTruncated(DnsResponseException ex) => ex.Code == DnsResponseCode.Unassigned && ex.InnerException is null;

    private void LogRetry(ResilienceContext context, int attempt, Outcome<IDnsQueryResponse> outcome, TimeSpan delay)
    {
        if (_logger.IsEnabled(LogLevel.Debug) && context.Properties.TryGetValue(StateKey, out DnsAttemptState? state))
        {
            string type = state.Type.ToString();
            string reason = DnsErrorText.DescribeOutcome(outcome);
            ResolutionLog.Retrying(_logger, type, state.Name, ServerNames[state.LastServer], attempt, reason, delay.TotalMilliseconds);
        }
    }

    /// <summary>The question for <paramref name="name"/>: the last one asked when it is the same (every round asks the same).</summary>
    private DnsQuestion Question(string name, QueryType type)
    {
        DnsQuestion? last = _lastQuestion;
        if (last is not null && last.QuestionType == type && string.Equals(last.QueryName.Original, name, StringComparison.Ordinal))
        {
            return last;
        }

        var question = new DnsQuestion(name, type, QueryClass.IN);
        if (type is QueryType.A or QueryType.SRV)
        {
            _lastQuestion = question;
        }

        return question;
    }
}

/// <summary>Per-query mutable state shared by the attempts of one pipeline execution (attempts are sequential).</summary>
internal sealed class DnsAttemptState(DnsQueryRunner owner, DnsQuestion question, string name, QueryType type)
{
    public DnsQueryRunner Owner { get; } = owner;

    public DnsQuestion Question { get; } = question;

    public string Name { get; } = name;

    public QueryType Type { get; } = type;

    public int Attempts { get; set; }

    public int LastServer { get; set; }

    /// <summary>Bit <c>i</c> set: server <c>i</c> (mod 64) was asked.</summary>
    public ulong Tried { get; set; }

    /// <summary>The servers asked, in configuration order, comma-separated; every server when none was asked yet.</summary>
    public string TriedServers()
    {
        string[] names = Owner.ServerNames;
        var list = new List<string>();
        for (int i = 0; i < names.Length; i++)
        {
            if ((Tried & (1UL << (i & 63))) != 0)
            {
                list.Add(names[i]);
            }
        }

        return string.Join(", ", list.Count == 0 ? names : list);
    }
}

/// <summary>One query's end: the answer (any RCODE) or the error, with the state that says what was asked of whom.</summary>
internal readonly record struct DnsQueryOutcome(DnsAttemptState State, IDnsQueryResponse? Response, Exception? Error);
