using System.Runtime.CompilerServices;

namespace Headless.Discovery;

/// <summary>
/// Sticky selection: keeps returning one pod until it leaves the available set (removed, unhealthy, ejected) or a lease
/// on it ends with <c>Complete(false)</c>; then moves to the next available pod in snapshot order. The first
/// pod is chosen at a random position (seedable), so many clients do not all stick to the lowest address.
/// </summary>
internal sealed class PickFirstSelector : EndpointSelectorBase
{
    private readonly Lock _rebuild = new();
    private readonly FailureTracker _tracker;
    private readonly int _start;
    private State _state;

    internal PickFirstSelector(IHeadlessService service, int? seed)
        : base(service)
    {
        _start = new FastRandom(seed).Next(1 << 20);
        _tracker = new FailureTracker(this);
        _state = Choose(service.Current, null, -1);
    }

    protected override PodEndpoint? Choose(out LeaseTracker? tracker)
    {
        // A lease's failure moves the selector off its pod.
        tracker = _tracker;
        return CurrentState().Chosen;
    }

    /// <summary>Moves off <paramref name="endpoint"/> if it is the sticky pod.</summary>
    internal void OnFailure(PodEndpoint endpoint)
    {
        lock (_rebuild)
        {
            State state = CurrentState();
            if (state.Chosen is not null && state.Chosen.Equals(endpoint))
            {
                Volatile.Write(ref _state, Choose(state.Snapshot, null, state.Index + 1));
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private State CurrentState()
    {
        EndpointSet current = Service.Current;
        State state = Volatile.Read(ref _state);
        return ReferenceEquals(state.Snapshot, current) ? state : Rebuild(current);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private State Rebuild(EndpointSet current)
    {
        lock (_rebuild)
        {
            State state = _state;
            if (!ReferenceEquals(state.Snapshot, current))
            {
                state = Choose(current, state.Chosen, state.Index);
                Volatile.Write(ref _state, state);
            }

            return state;
        }
    }

    private State Choose(EndpointSet set, PodEndpoint? keep, int fallbackIndex)
    {
        PodEndpoint[] available = AvailableOf(set);
        if (available.Length == 0)
        {
            // Keep the position (-1 until a pod was ever chosen) so that the pods' return resumes there, and a
            // selector created before the first answer still starts at its random position.
            return new State(set, null, fallbackIndex);
        }

        if (keep is not null)
        {
            int index = Array.BinarySearch(available, keep);
            if (index >= 0)
            {
                return new State(set, available[index], index);
            }

            // The sticky pod left: take the one that now sits where it was (its successor in order).
            index = ~index;
            return new State(set, available[index % available.Length], index % available.Length);
        }

        int next = (fallbackIndex < 0 ? _start : fallbackIndex) % available.Length;
        return new State(set, available[next], next);
    }

    private sealed record State(EndpointSet Snapshot, PodEndpoint? Chosen, int Index);

    private sealed class FailureTracker(PickFirstSelector owner) : LeaseTracker
    {
        internal override void Release(PodEndpoint endpoint, int outcome)
        {
            if (outcome < 0)
            {
                owner.OnFailure(endpoint);
            }
        }
    }
}
