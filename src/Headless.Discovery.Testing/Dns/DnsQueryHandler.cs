using ARSoft.Tools.Net.Dns;

namespace Headless.Discovery.Testing;

/// <summary>
/// Answers the embedded server's queries: under the server's lock it takes the query's fault, the settings and the
/// zone view, and records it; outside the lock it holds a dropped query until disposal, waits the response delay, then
/// fills the answer. Tracks the queries in flight (for <see cref="MaxConcurrent"/> and the drain on disposal).
/// Properties are read and written under the server's lock.
/// </summary>
internal sealed class DnsQueryHandler(Lock gate, DnsZone zone, DnsFaultPlan faults, DnsQueryJournal journal) : IDisposable
{
    private readonly HashSet<Task> _inflight = [];
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>The delay before every answer (not before a dropped query's silence).</summary>
    public TimeSpan ResponseDelay { get; set; }

    /// <summary>The TTL of the SOA sent with NXDOMAIN and NODATA.</summary>
    public TimeSpan NegativeTtl { get; set; } = EmbeddedDnsServer.DefaultTtl;

    /// <summary>The most queries in flight at once since start or <see cref="ResetMaxConcurrent"/>.</summary>
    public int MaxConcurrent { get; private set; }

    public void ResetMaxConcurrent() => MaxConcurrent = _inflight.Count;

    /// <summary>The listeners' handler: answers one query, tracked while in flight.</summary>
    public async Task OnQueryReceivedAsync(object sender, QueryReceivedEventArgs e)
    {
        var task = HandleQueryAsync(e);
        lock (gate)
        {
            _inflight.Add(task);
            MaxConcurrent = Math.Max(MaxConcurrent, _inflight.Count);
        }

        try
        {
            // Exceptions flow back to ARSoft, which reports them and answers SERVFAIL.
            await task.ConfigureAwait(false);
        }
        finally
        {
            lock (gate)
            {
                _inflight.Remove(task);
            }
        }
    }

    /// <summary>Releases held and delayed queries without answering them (call after the listeners are closed).</summary>
    public Task ReleaseHeldAsync() => _stopping.CancelAsync();

    /// <summary>Waits up to <paramref name="timeout"/> for the queries in flight; a handler still running then is abandoned.</summary>
    public async Task DrainAsync(TimeSpan timeout)
    {
        Task[] inflight;
        lock (gate)
        {
            inflight = [.. _inflight];
        }

        try
        {
            await Task.WhenAll(inflight).WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A query handler that does not finish within the drain timeout is abandoned; it can no longer answer.
        }
    }

    public void Dispose() => _stopping.Dispose();

    private async Task HandleQueryAsync(QueryReceivedEventArgs e)
    {
        if (e.Query is not DnsMessage query || query.Questions.Count == 0)
        {
            // ARSoft answers a null response with a failure response.
            return;
        }

        var question = query.Questions[0];
        var transport = e.TransportProtocol == TransportProtocol.Udp ? DnsTransport.Udp : DnsTransport.Tcp;
        var receipt = Receive(question, transport);

        var response = query.CreateResponseInstance();
        response.IsAuthoritiveAnswer = true;
        response.IsRecursionAllowed = false;
        e.Response = response;
        try
        {
            if (receipt.Fault == DnsFault.Drop)
            {
                // Held until disposal, when the sockets are already closed: the client never gets an answer.
                await Task.Delay(Timeout.InfiniteTimeSpan, _stopping.Token).ConfigureAwait(false);
            }

            if (receipt.Delay > TimeSpan.Zero)
            {
                await Task.Delay(receipt.Delay, _stopping.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            response.ReturnCode = ReturnCode.ServerFailure;
            return;
        }

        DnsAnswers.Fill(response, question, receipt.Fault, receipt.Entry, receipt.Targets, receipt.NegativeTtl);
    }

    /// <summary>Takes the query's fault, settings and zone view, and records it, all under the lock (one consistent view).</summary>
    private Receipt Receive(DnsQuestion question, DnsTransport transport)
    {
        var name = DnsNames.FromQuery(question.Name);
        var type = (DnsRecordType)(int)question.RecordType;
        lock (gate)
        {
            var fault = faults.Take(name, transport);
            var (entry, targets) = zone.Lookup(name, type);
            journal.Record(new DnsQueryInfo(name, type, transport, fault));
            return new Receipt(fault, ResponseDelay, NegativeTtl, entry, targets);
        }
    }

    /// <summary>What a query saw when it was received.</summary>
    private readonly record struct Receipt(DnsFault Fault, TimeSpan Delay, TimeSpan NegativeTtl, DnsZone.ZoneEntry? Entry, DnsZone.ZoneEntry[]? Targets);
}
