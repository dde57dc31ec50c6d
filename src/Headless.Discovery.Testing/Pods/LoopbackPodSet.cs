using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Headless.Discovery.Testing;

/// <summary>
/// A StatefulSet-like group of HTTP <see cref="LoopbackPod"/>s: each pod gets a fresh loopback address from
/// <see cref="LoopbackAddressPool"/>, all share one port, and pods are named <c>&lt;prefix&gt;-&lt;ordinal&gt;</c>.
/// Scale it up and down and publish it into an <see cref="EmbeddedDnsServer"/> as a headless Service.
/// </summary>
/// <remarks>
/// Like a StatefulSet, scaling up takes the lowest free ordinals and scaling down removes the highest ones; a pod
/// added again under a reused ordinal gets a new address. All members are thread-safe; mutations are serialized.
/// </remarks>
public sealed partial class LoopbackPodSet : IAsyncDisposable
{
    private const int BindAttempts = 8;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly string _namePrefix;
    // Every (server, service) the set was synced to, with what it published and how: ScaleAsync, AddPodAsync and
    // RemovePodAsync publish the pods again to each of them, so DNS follows the set without another SyncToDns.
    private readonly Dictionary<(EmbeddedDnsServer Server, string Service), Published> _published = [];
    private LoopbackPod[] _pods = [];
    private int _port;
    private bool _disposed;

    private LoopbackPodSet(int port, string namePrefix)
    {
        _port = port;
        _namePrefix = namePrefix;
    }

    /// <summary>The pods, ordered by ordinal (a snapshot; stopped pods included).</summary>
    public IReadOnlyList<LoopbackPod> Pods => Volatile.Read(ref _pods);

    /// <summary>The port every pod listens on; 0 until the first pod has picked one when the set was created with port 0.</summary>
    public int Port => Volatile.Read(ref _port);

    /// <summary>Starts <paramref name="count"/> HTTP pods on fresh loopback addresses and one shared port.</summary>
    /// <param name="count">How many pods to start; zero or more.</param>
    /// <param name="port">The shared port, or 0 (the default) to pick one that is free on the first pod's address and reuse it for the others.</param>
    /// <param name="namePrefix">The pod name prefix, a DNS label such as <c>web</c>. Default <c>pod</c>.</param>
    /// <param name="cancellationToken">Cancels the start; pods already started are stopped.</param>
    /// <returns>The running set; dispose it to stop every pod.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative or <paramref name="port"/> is outside 0 to 65535.</exception>
    /// <exception cref="ArgumentException"><paramref name="namePrefix"/> is not a lower-case DNS label of at most 50 characters.</exception>
    public static async Task<LoopbackPodSet> StartAsync(int count, int port = 0, string namePrefix = "pod", CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, IPEndPoint.MaxPort);
        ArgumentNullException.ThrowIfNull(namePrefix);
        if (!DnsLabel().IsMatch(namePrefix))
        {
            throw new ArgumentException($"'{namePrefix}' is not a lower-case DNS label of at most 50 characters.", nameof(namePrefix));
        }

        var set = new LoopbackPodSet(port, namePrefix);
        try
        {
            await set.ScaleAsync(count, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await set.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return set;
    }

    /// <summary>Starts one more pod under the lowest free ordinal, on a fresh address.</summary>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The new, running pod.</returns>
    /// <exception cref="ObjectDisposedException">The set is disposed.</exception>
    public async Task<LoopbackPod> AddPodAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            LoopbackPod pod = await AddCoreAsync(cancellationToken).ConfigureAwait(false);
            Republish();
            return pod;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Stops, disposes and removes <paramref name="pod"/>.</summary>
    /// <param name="pod">A pod of this set.</param>
    /// <returns><see langword="true"/> if the pod belonged to the set.</returns>
    public async Task<bool> RemovePodAsync(LoopbackPod pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!_pods.Contains(pod))
            {
                return false;
            }

            Volatile.Write(ref _pods, [.. _pods.Where(p => p != pod)]);
            Republish();
            await pod.DisposeAsync().ConfigureAwait(false);
            return true;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Replaces <paramref name="pod"/> the way a StatefulSet recreates a deleted pod: a new pod under the same ordinal on a
    /// fresh address. DNS changes in one step (the old address out, the new one in), then the old pod stops.
    /// </summary>
    /// <param name="pod">A pod of this set.</param>
    /// <param name="cancellationToken">Cancels starting the new pod (the old one then stays).</param>
    /// <returns>The new, running pod.</returns>
    /// <exception cref="ArgumentException"><paramref name="pod"/> is not a pod of this set.</exception>
    /// <exception cref="ObjectDisposedException">The set is disposed.</exception>
    public async Task<LoopbackPod> ReplacePodAsync(LoopbackPod pod, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pod);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            LoopbackPod[] before = _pods;
            if (!before.Contains(pod))
            {
                throw new ArgumentException($"{pod.Name} is not a pod of this set.", nameof(pod));
            }

            // Out of the set (not yet of DNS), so the new pod takes its ordinal.
            Volatile.Write(ref _pods, [.. before.Where(p => p != pod)]);
            LoopbackPod replacement;
            try
            {
                replacement = await AddCoreAsync(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                Volatile.Write(ref _pods, before);
                throw;
            }

            Republish();
            await pod.DisposeAsync().ConfigureAwait(false);
            return replacement;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Adds pods under the lowest free ordinals, or removes the highest ordinals, until there are <paramref name="count"/>.</summary>
    /// <param name="count">The wanted number of pods; zero or more.</param>
    /// <param name="cancellationToken">Cancels adding pods (pods added so far stay).</param>
    /// <returns>A task that completes when the set has <paramref name="count"/> pods.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative.</exception>
    /// <exception cref="ObjectDisposedException">The set is disposed.</exception>
    public async Task ScaleAsync(int count, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            while (_pods.Length < count)
            {
                await AddCoreAsync(cancellationToken).ConfigureAwait(false);
            }

            // The highest ordinals leave DNS together (one endpoints update), then stop.
            LoopbackPod[] leaving = _pods[count..];
            Volatile.Write(ref _pods, _pods[..count]);
            Republish();
            foreach (LoopbackPod pod in leaving)
            {
                await pod.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Publishes the running pods into <paramref name="server"/> the way CoreDNS publishes a headless Service's ready
    /// pods, now and after every later <see cref="ScaleAsync"/>, <see cref="AddPodAsync"/> and
    /// <see cref="RemovePodAsync"/> (a pod leaves DNS before it stops, as a terminating pod leaves the endpoints):
    /// A records of <paramref name="serviceName"/> (the pods' addresses, by ordinal), one A record per pod at
    /// <c>&lt;pod name&gt;.&lt;serviceName&gt;</c>, and, when <paramref name="srvName"/> is given, SRV records there pointing
    /// at those host names and <see cref="Port"/>. Host names published earlier for pods that are gone or stopped are
    /// removed. With no running pod the service name is removed, so it gets NXDOMAIN, as in Kubernetes.
    /// </summary>
    /// <param name="server">The DNS server.</param>
    /// <param name="serviceName">The service name, e.g. <c>web.default.svc.cluster.local</c>.</param>
    /// <param name="ttl">The records' TTL. Default 5 seconds.</param>
    /// <param name="srvName">The SRV owner name, e.g. <c>_http._tcp.web.default.svc.cluster.local</c>, or <see langword="null"/> (the default) for no SRV records.</param>
    /// <exception cref="ArgumentException">A name is not a valid DNS name.</exception>
    public void SyncToDns(EmbeddedDnsServer server, string serviceName, TimeSpan? ttl = null, string? srvName = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentException.ThrowIfNullOrWhiteSpace(serviceName);
        var service = serviceName.Trim().TrimEnd('.').ToLowerInvariant();
        var running = Pods.Where(p => p.IsRunning).ToArray();
        var hostnames = running.Select(p => $"{p.Name}.{service}").ToArray();
        lock (_published)
        {
            var key = (server, service);
            var previous = _published.GetValueOrDefault(key)?.Hostnames ?? [];
            foreach (var stale in previous.Except(hostnames, StringComparer.Ordinal))
            {
                server.RemoveName(stale);
            }

            for (var i = 0; i < running.Length; i++)
            {
                server.SetAddresses(hostnames[i], [running[i].Address], ttl);
            }

            if (running.Length == 0)
            {
                server.RemoveName(service);
            }
            else
            {
                server.SetAddresses(service, running.Select(p => p.Address), ttl);
            }

            if (srvName is not null)
            {
                if (running.Length == 0)
                {
                    server.RemoveName(srvName);
                }
                else
                {
                    server.SetSrvRecords(srvName, hostnames.Select(h => new SrvTarget(h, Port)), ttl);
                }
            }

            _published[key] = new Published([.. hostnames], ttl, srvName);
        }
    }

    /// <summary>Publishes the pods again wherever <see cref="SyncToDns"/> published them. Caller holds the gate.</summary>
    private void Republish()
    {
        KeyValuePair<(EmbeddedDnsServer Server, string Service), Published>[] targets;
        lock (_published)
        {
            targets = [.. _published];
        }

        foreach (var ((server, service), published) in targets)
        {
            try
            {
                SyncToDns(server, service, published.Ttl, published.SrvName);
            }
            catch (ObjectDisposedException)
            {
                // A server the test has already stopped: nothing to keep in step any more.
                lock (_published)
                {
                    _published.Remove((server, service));
                }
            }
        }
    }

    private sealed record Published(HashSet<string> Hostnames, TimeSpan? Ttl, string? SrvName);

    /// <summary>Stops and disposes every pod. Idempotent.</summary>
    /// <returns>A task that completes when every pod is stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            var pods = Interlocked.Exchange(ref _pods, []);
            foreach (var pod in pods)
            {
                await pod.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<LoopbackPod> AddCoreAsync(CancellationToken cancellationToken)
    {
        var ordinal = 0;
        while (_pods.Any(p => p.Name == $"{_namePrefix}-{ordinal}"))
        {
            ordinal++;
        }

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var pod = await LoopbackPod.StartHttpAsync(LoopbackAddressPool.Next(), _port, $"{_namePrefix}-{ordinal}", cancellationToken).ConfigureAwait(false);
                Volatile.Write(ref _port, pod.Port);
                Volatile.Write(ref _pods, [.. _pods.Append(pod).OrderBy(p => Ordinal(p.Name))]);
                return pod;
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse && attempt < BindAttempts)
            {
                // Something outside the pool squats on this address and port: take the next address.
            }
        }
    }

    private static int Ordinal(string name) => int.Parse(name.AsSpan(name.LastIndexOf('-') + 1), System.Globalization.CultureInfo.InvariantCulture);

    [GeneratedRegex("^[a-z0-9]([a-z0-9-]{0,48}[a-z0-9])?$")]
    private static partial Regex DnsLabel();
}
