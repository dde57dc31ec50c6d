using System.Collections.Immutable;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.ServiceDiscovery;
using Headless.Discovery.Testing;

namespace Headless.Discovery.Benchmarks;

/// <summary>
/// Reading the current endpoints: the synchronous snapshot (<see cref="HeadlessService.Current"/>, its precomputed
/// available view) against the floor of one volatile field read, and the async "get endpoints" call against
/// Microsoft.Extensions.ServiceDiscovery's cached <see cref="ServiceEndpointResolver.GetEndpointsAsync"/>
/// (configuration-based provider, warmed so its cache holds the answer).
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class SnapshotBenchmark
{
    private const int EndpointCount = 100;
    private const string MeServiceName = "http://web";

    /// <summary>Reads per invocation: at about a nanosecond per read, one per call is below BenchmarkDotNet's overhead noise.</summary>
    private const int Reads = 64;

    private EndpointSet _field = null!;
    private HeadlessService _service = null!;
    private IHeadlessService _interface = null!;
    private ServiceProvider _provider = null!;
    private ServiceEndpointResolver _meResolver = null!;

    [GlobalSetup]
    public async Task Setup()
    {
        PodEndpoint[] endpoints = Fixtures.Endpoints(EndpointCount);
        _service = new HeadlessService(Fixtures.Service, new ScriptedResolver(endpoints), Fixtures.QuietOptions());
        _interface = _service;
        EndpointSet set = await _service.RefreshAsync();
        if (set.Endpoints.Length != EndpointCount)
        {
            throw new InvalidOperationException($"Expected {EndpointCount} endpoints, got {set.Endpoints.Length}.");
        }

        _field = set;

        _provider = Fixtures.MeSdProvider(EndpointCount);
        _meResolver = _provider.GetRequiredService<ServiceEndpointResolver>();
        ServiceEndpointSource source = await _meResolver.GetEndpointsAsync(MeServiceName, CancellationToken.None);
        if (source.Endpoints.Count != EndpointCount)
        {
            throw new InvalidOperationException($"Microsoft.Extensions.ServiceDiscovery resolved {source.Endpoints.Count} endpoints, expected {EndpointCount}.");
        }
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await _service.DisposeAsync();
        await _meResolver.DisposeAsync();
        await _provider.DisposeAsync();
    }

    // ---- synchronous reads ----

    /// <summary>The floor: one volatile read of a field holding the snapshot.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Reads, Description = "Floor: Volatile.Read(field)")]
    [BenchmarkCategory("Read")]
    public EndpointSet Floor()
    {
        EndpointSet last = default!;
        for (int i = 0; i < Reads; i++)
        {
            last = Volatile.Read(ref _field);
        }

        return last;
    }

    [Benchmark(OperationsPerInvoke = Reads, Description = "HeadlessService.Current")]
    [BenchmarkCategory("Read")]
    public EndpointSet Current()
    {
        EndpointSet last = default!;
        for (int i = 0; i < Reads; i++)
        {
            last = _service.Current;
        }

        return last;
    }

    [Benchmark(OperationsPerInvoke = Reads, Description = "IHeadlessService.Current")]
    [BenchmarkCategory("Read")]
    public EndpointSet CurrentViaInterface()
    {
        EndpointSet last = default!;
        for (int i = 0; i < Reads; i++)
        {
            last = _interface.Current;
        }

        return last;
    }

    [Benchmark(OperationsPerInvoke = Reads, Description = "Current.Available (healthy view)")]
    [BenchmarkCategory("Read")]
    public ImmutableArray<PodEndpoint> Available()
    {
        ImmutableArray<PodEndpoint> last = default!;
        for (int i = 0; i < Reads; i++)
        {
            last = _service.Current.Available;
        }

        return last;
    }

    // ---- async get ----

    /// <summary>The peer: ME.SD's resolver with a warm cache (the call every ME.SD-resolved HttpClient request makes).</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Reads, Description = "ME.SD ServiceEndpointResolver.GetEndpointsAsync (cached)")]
    [BenchmarkCategory("Async")]
    public ServiceEndpointSource MeSdGetEndpointsAsync()
    {
        ServiceEndpointSource last = default!;
        for (int i = 0; i < Reads; i++)
        {
            last = Unwrap(_meResolver.GetEndpointsAsync(MeServiceName, CancellationToken.None));
        }

        return last;
    }

    [Benchmark(OperationsPerInvoke = Reads, Description = "IHeadlessService.GetEndpointsAsync")]
    [BenchmarkCategory("Async")]
    public EndpointSet GetEndpointsAsync()
    {
        EndpointSet last = default!;
        for (int i = 0; i < Reads; i++)
        {
            last = Unwrap(_interface.GetEndpointsAsync());
        }

        return last;
    }

    [Benchmark(OperationsPerInvoke = Reads, Description = "IHeadlessService.WaitForEndpointsAsync(1)")]
    [BenchmarkCategory("Async")]
    public EndpointSet WaitForEndpointsAsync()
    {
        EndpointSet last = default!;
        for (int i = 0; i < Reads; i++)
        {
            last = Unwrap(_interface.WaitForEndpointsAsync());
        }

        return last;
    }

    /// <summary>What <c>await</c> does with a completed ValueTask: read the result, no allocation, no scheduling.</summary>
    private static T Unwrap<T>(ValueTask<T> task) =>
        task.IsCompletedSuccessfully ? task.Result : task.AsTask().GetAwaiter().GetResult();
}
