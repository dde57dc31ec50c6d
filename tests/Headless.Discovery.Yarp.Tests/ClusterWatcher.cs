using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;

namespace Headless.Discovery.Yarp.Tests;

/// <summary>
/// Signals when YARP has applied a cluster's destinations: YARP calls its change listeners after it has updated the
/// cluster's destination state, so a request sent after the signal is balanced over the new destinations.
/// </summary>
internal sealed class ClusterWatcher : IClusterChangeListener
{
    private readonly Lock _lock = new();
    private readonly List<(string ClusterId, Func<ClusterState, bool> Condition, TaskCompletionSource<ClusterState> Done)> _waiters = [];

    /// <summary>Waits until <paramref name="clusterId"/>'s destinations meet <paramref name="condition"/> (now or after a change).</summary>
    public async Task<ClusterState> WaitForAsync(IProxyStateLookup proxy, string clusterId, Func<ClusterState, bool> condition)
    {
        var done = new TaskCompletionSource<ClusterState>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            _waiters.Add((clusterId, condition, done));
        }

        // Registered before looking, so a change applied between the look and the wait is not missed.
        if (proxy.TryGetCluster(clusterId, out ClusterState? cluster))
        {
            Check(cluster);
        }

        try
        {
            return await done.Task.WaitAsync(Generous);
        }
        finally
        {
            lock (_lock)
            {
                _waiters.RemoveAll(w => w.Done == done);
            }
        }
    }

    public void OnClusterAdded(ClusterState cluster) => Check(cluster);

    public void OnClusterChanged(ClusterState cluster) => Check(cluster);

    public void OnClusterRemoved(ClusterState cluster)
    {
    }

    private void Check(ClusterState cluster)
    {
        (string ClusterId, Func<ClusterState, bool> Condition, TaskCompletionSource<ClusterState> Done)[] waiters;
        lock (_lock)
        {
            waiters = [.. _waiters];
        }

        foreach (var waiter in waiters)
        {
            if (waiter.ClusterId == cluster.ClusterId && waiter.Condition(cluster))
            {
                waiter.Done.TrySetResult(cluster);
            }
        }
    }
}
