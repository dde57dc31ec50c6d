namespace Headless.Discovery;

/// <content>The life of one pod's slot: connect, install, wait until the connection is let go, close, start over.</content>
public sealed partial class ConnectionSet<TConnection>
{
    /// <summary>
    /// Runs one pod's slot until the pod stops being wanted: connects (retrying with backoff), installs the connection,
    /// waits until it is retired (pod removed, reported broken, set disposed), takes it out, and — one connection per
    /// pod, ever — makes the next only after the previous one is closed (its last lease ended).
    /// </summary>
    private async Task RunSlotAsync(Slot slot)
    {
        // Off the caller's stack, onto the thread pool: never onto the caller's synchronization context (a UI thread or a
        // test framework's worker may be blocked waiting for this very set).
        await Task.CompletedTask.ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
        while (TryGetToken(slot, out CancellationToken token))
        {
            TConnection connection;
            try
            {
                connection = await _reconnector.ConnectAsync(slot.Endpoint, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                continue;
            }

            var holder = new ConnectionHolder<TConnection>(slot.Endpoint, connection, _time.GetUtcNow(), CloseAsync);
            if (!TryInstall(slot, holder))
            {
                // The pod left while connecting: this connection was never handed out.
                holder.Release();
                await holder.Closed.ConfigureAwait(false);
                continue;
            }

            ConnectionSetLog.Connected(_logger, _service.Name.Value, slot.Endpoint.Key);
            Raise(new ConnectionSetChange<TConnection>(slot.Endpoint, connection, true, ConnectionCloseReason.None));

            ConnectionCloseReason reason = await holder.Retired.ConfigureAwait(false);
            lock (_sync)
            {
                slot.Holder = null;
                PublishLocked();
            }

            holder.Release();
            ConnectionSetLog.Disconnected(_logger, _service.Name.Value, slot.Endpoint.Key, reason);
            Raise(new ConnectionSetChange<TConnection>(slot.Endpoint, connection, false, reason));
            await holder.Closed.ConfigureAwait(false);
        }
    }

    /// <summary>The token of the slot's current membership, or <see langword="false"/> (and the slot gone) when the pod is no longer wanted.</summary>
    private bool TryGetToken(Slot slot, out CancellationToken token)
    {
        lock (_sync)
        {
            if (!slot.Desired)
            {
                // Its source is not disposed: a removal that took it under the lock may still cancel it outside
                // (see Stop), and a source without a timer holds nothing to release.
                _slots.Remove(slot.Endpoint);
                token = default;
                return false;
            }

            token = slot.Cancel.Token;
            return true;
        }
    }

    /// <summary>Publishes <paramref name="holder"/> as the slot's connection, unless the pod stopped being wanted meanwhile.</summary>
    private bool TryInstall(Slot slot, ConnectionHolder<TConnection> holder)
    {
        lock (_sync)
        {
            if (!slot.Desired)
            {
                return false;
            }

            slot.Holder = holder;
            PublishLocked();
            return true;
        }
    }

    /// <summary>One pod's place in the set. Mutated under the set's lock only.</summary>
    private sealed class Slot(PodEndpoint endpoint)
    {
        public PodEndpoint Endpoint { get; } = endpoint;

        /// <summary>Whether the pod is wanted (a member, available or included); cleared when it leaves or the set is disposed.</summary>
        public bool Desired { get; set; } = true;

        /// <summary>Cancelled when the pod stops being wanted; replaced when it comes back before its loop ended.</summary>
        public CancellationTokenSource Cancel { get; set; } = new();

        public ConnectionHolder<TConnection>? Holder { get; set; }
    }
}
