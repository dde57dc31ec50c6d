using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;

namespace Headless.Discovery;

/// <summary>
/// Builds an address round's result, reusing what the last round built: an unchanged answer is the last sorted array
/// itself (nothing allocated, no sort), and a changed one reuses the <see cref="PodEndpoint"/> of every pod that was
/// already there. Holds the last successful answer of one resolver; thread-safe (a volatile swap; concurrent rounds at
/// worst miss a reuse).
/// </summary>
internal sealed class AddressResultBuilder(DnsAnswerReader reader, int port)
{
    private volatile LastAnswer? _last;

    /// <summary>The round's result from its A/AAAA lookup.</summary>
    public ResolutionResult ToResult(ServiceName service, AddressLookup lookup)
    {
        if (lookup.Outcome != ResolutionOutcome.Success)
        {
            return lookup.ToResult();
        }

        // An unchanged answer is made of the endpoints the last one made: no PodEndpoint is allocated for a pod that
        // was already there (the refresh that changes nothing then allocates little beyond DnsClient's own answer).
        LastAnswer? last = _last;
        ImmutableArray<PodEndpoint> previous = last is not null && last.Service.Equals(service) ? last.Endpoints : [];
        if (IsSameAnswer(previous, lookup.Addresses, port))
        {
            return ResolutionResult.FromSortedUnique(previous, lookup.Ttl);
        }

        var endpoints = new List<PodEndpoint>(lookup.Addresses.Count);
        foreach (IPAddress address in lookup.Addresses)
        {
            int found = FindIPv4(previous, address, port);
            endpoints.Add(found >= 0 ? previous[found] : new PodEndpoint(address, port));
        }

        ResolutionResult result = reader.Finish(service, endpoints, lookup.Ttl);
        if (result.Outcome == ResolutionOutcome.Success && !SameInstances(previous, result.Endpoints))
        {
            _last = new LastAnswer(service, result.Endpoints);
        }

        return result;
    }

    /// <summary>
    /// Whether <paramref name="addresses"/> (with <paramref name="port"/>) are exactly the endpoints of
    /// <paramref name="previous"/>, each once: then the previous sorted array is this answer too, and nothing is built.
    /// Allocation-free up to 1024 endpoints.
    /// </summary>
    internal static bool IsSameAnswer(ImmutableArray<PodEndpoint> previous, List<IPAddress> addresses, int port)
    {
        if (previous.IsDefaultOrEmpty || addresses.Count != previous.Length)
        {
            return false;
        }

        Span<bool> seen = previous.Length <= 1024 ? stackalloc bool[previous.Length] : new bool[previous.Length];
        foreach (IPAddress address in addresses)
        {
            int found = FindIPv4(previous, address, port);
            if (found < 0 || seen[found])
            {
                return false;
            }

            seen[found] = true;
        }

        return true;
    }

    /// <summary>The index in <paramref name="previous"/> (sorted, A/AAAA only) of this IPv4 address and port, or -1.</summary>
    internal static int FindIPv4(ImmutableArray<PodEndpoint> previous, IPAddress address, int port)
    {
        if (previous.IsDefaultOrEmpty || address.AddressFamily != AddressFamily.InterNetwork)
        {
            return -1;
        }

        Span<byte> bytes = stackalloc byte[4];
        address.TryWriteBytes(bytes, out _);
        ulong wanted = ((ulong)BinaryPrimitives.ReadUInt32BigEndian(bytes) << 16) | (uint)port;

        // IPv4 endpoints without a hostname sort first, by this key; IPv6 ones (no key) after them all.
        int low = 0, high = previous.Length - 1;
        while (low <= high)
        {
            int middle = low + ((high - low) >> 1);
            PodEndpoint candidate = previous[middle];
            if (!candidate.TryGetSortKey(out ulong key) || key > wanted)
            {
                high = middle - 1;
            }
            else if (key < wanted)
            {
                low = middle + 1;
            }
            else
            {
                return middle;
            }
        }

        return -1;
    }

    private static bool SameInstances(ImmutableArray<PodEndpoint> previous, ImmutableArray<PodEndpoint> current)
    {
        if (previous.Length != current.Length)
        {
            return false;
        }

        for (int i = 0; i < current.Length; i++)
        {
            if (!ReferenceEquals(previous[i], current[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The endpoints of the last successful A/AAAA answer, and for which service.</summary>
    private sealed class LastAnswer(ServiceName service, ImmutableArray<PodEndpoint> endpoints)
    {
        public ServiceName Service { get; } = service;

        public ImmutableArray<PodEndpoint> Endpoints { get; } = endpoints;
    }
}
