using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.ServiceDiscovery;

namespace Headless.Discovery.Benchmarks;

/// <summary>
/// Microsoft.Extensions.ServiceDiscovery's round-robin selector as a peer. The type
/// (<c>Microsoft.Extensions.ServiceDiscovery.LoadBalancing.RoundRobinServiceEndpointSelector</c>) is <c>internal</c>, so it
/// is created through reflection once, fed a real <see cref="ServiceEndpointSource"/> from the configuration provider,
/// and its <c>GetEndpoint(object?)</c> is bound to a <see cref="Func{T, TResult}"/> delegate closed over the instance: the measured call is
/// one delegate invocation of the real method, not reflection.
/// </summary>
internal sealed class MeSdRoundRobinSelector : IAsyncDisposable
{
    private const string TypeName = "Microsoft.Extensions.ServiceDiscovery.LoadBalancing.RoundRobinServiceEndpointSelector";

    private readonly ServiceProvider _provider;

    private MeSdRoundRobinSelector(ServiceProvider provider, Func<object?, ServiceEndpoint> pick, int count)
    {
        _provider = provider;
        Pick = pick;
        Count = count;
    }

    /// <summary>Picks the next endpoint (the selector's <c>GetEndpoint(context)</c>).</summary>
    public Func<object?, ServiceEndpoint> Pick { get; }

    public int Count { get; }

    public static async Task<MeSdRoundRobinSelector> CreateAsync(int endpointCount)
    {
        ServiceProvider provider = Fixtures.MeSdProvider(endpointCount);
        ServiceEndpointSource source = await provider.GetRequiredService<ServiceEndpointResolver>()
            .GetEndpointsAsync("http://web", CancellationToken.None);

        Type type = typeof(ServiceEndpointResolver).Assembly.GetType(TypeName, throwOnError: true)!;
        object selector = Activator.CreateInstance(type, nonPublic: true)!;
        MethodInfo setEndpoints = type.GetMethod("SetEndpoints", BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
            ?? throw new MissingMethodException(TypeName, "SetEndpoints");
        setEndpoints.Invoke(selector, [source]);
        MethodInfo getEndpoint = type.GetMethod("GetEndpoint", BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
            ?? throw new MissingMethodException(TypeName, "GetEndpoint");
        var pick = getEndpoint.CreateDelegate<Func<object?, ServiceEndpoint>>(selector);
        if (source.Endpoints.Count != endpointCount || pick(null) is null)
        {
            throw new InvalidOperationException($"ME.SD selector holds {source.Endpoints.Count} endpoints, expected {endpointCount}.");
        }

        return new MeSdRoundRobinSelector(provider, pick, source.Endpoints.Count);
    }

    public ValueTask DisposeAsync() => _provider.DisposeAsync();
}
