using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Headless.Discovery;

/// <summary>Shared plumbing of the selectors: the service, the clock for leases, the error path.</summary>
internal abstract class EndpointSelectorBase : IEndpointSelector
{
    protected EndpointSelectorBase(IHeadlessService service)
    {
        ArgumentNullException.ThrowIfNull(service);
        Service = service;
        TimeProvider = service.TimeProvider;
    }

    public IHeadlessService Service { get; }

    protected TimeProvider TimeProvider { get; }

    public abstract bool TryPick([NotNullWhen(true)] out PodEndpoint? endpoint);

    public abstract PodEndpoint Pick();

    public virtual bool TryLease(out EndpointLease lease)
    {
        if (TryPick(out PodEndpoint? endpoint))
        {
            lease = new EndpointLease(Service, endpoint, null, TimeProvider);
            return true;
        }

        lease = default;
        return false;
    }

    public EndpointLease Lease() => TryLease(out EndpointLease lease) ? lease : throw NoEndpoint();

    [MethodImpl(MethodImplOptions.NoInlining)]
    protected NoEndpointAvailableException NoEndpoint() => NoEndpointAvailableException.For(Service.Current);

    /// <summary>The array behind <see cref="EndpointSet.Available"/>, without ImmutableArray's checks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    protected static PodEndpoint[] AvailableOf(EndpointSet set) => ImmutableCollectionsMarshal.AsArray(set.Available)!;

    public override string ToString() => $"{GetType().Name.Replace("Selector", string.Empty, StringComparison.Ordinal)} over {Service.Name}";
}
