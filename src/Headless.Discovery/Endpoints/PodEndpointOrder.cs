using System.Collections.Immutable;
using System.Runtime.InteropServices;

namespace Headless.Discovery;

/// <summary>
/// The one order of pods (<see cref="PodEndpoint"/>'s comparison: address, port, hostname) and the sorted, unique
/// arrays built in it, which snapshots, resolution results and selector tables all hold. Pure; thread-safe.
/// </summary>
internal static class PodEndpointOrder
{
    /// <summary>
    /// <paramref name="endpoints"/> sorted in <see cref="PodEndpoint"/> order, each once; empty for none. The returned
    /// array is new (never the caller's collection).
    /// </summary>
    public static ImmutableArray<PodEndpoint> SortUnique(IEnumerable<PodEndpoint> endpoints)
    {
        PodEndpoint[] array = endpoints.ToArray();
        if (array.Length == 0)
        {
            return ImmutableArray<PodEndpoint>.Empty;
        }

        SortInPlace(array);
        int n = 1;
        for (int i = 1; i < array.Length; i++)
        {
            if (!array[i].Equals(array[n - 1]))
            {
                array[n++] = array[i];
            }
        }

        if (n != array.Length)
        {
            Array.Resize(ref array, n);
        }

        return ImmutableCollectionsMarshal.AsImmutableArray(array);
    }

    /// <summary>
    /// Sorts by <see cref="PodEndpoint"/> order. An A answer (IPv4, no hostnames: the common case, re-sorted on every
    /// refresh) is sorted on primitive keys, several times faster than comparing objects; anything else by comparison.
    /// </summary>
    private static void SortInPlace(PodEndpoint[] array)
    {
        if (array.Length > 16)
        {
            ulong[] keys = new ulong[array.Length];
            bool primitive = true;
            for (int i = 0; i < array.Length && primitive; i++)
            {
                primitive = array[i].TryGetSortKey(out keys[i]);
            }

            if (primitive)
            {
                Array.Sort(keys, array);
                return;
            }
        }

        Array.Sort(array);
    }
}
