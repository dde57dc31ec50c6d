using System.Net;
using Grpc.Core;
using Headless.Discovery.Examples.Grpc;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace Headless.Discovery.Grpc.Tests;

/// <summary>
/// A real gRPC server (Kestrel, HTTP/2 without TLS) on its own loopback address: the Greeter service, which answers
/// with the pod's name and counts its calls, and the standard gRPC health service (grpc.health.v1), whose answer follows
/// <see cref="Healthy"/>.
/// </summary>
internal sealed class GrpcPod : IAsyncDisposable
{
    private WebApplication _app = null!;
    private int _calls;
    private volatile bool _healthy = true;

    private GrpcPod(string name, IPAddress address)
    {
        Name = name;
        Address = address;
    }

    public string Name { get; }

    public IPAddress Address { get; }

    public int Port { get; private set; }

    public int Calls => Volatile.Read(ref _calls);

    /// <summary>What the pod's gRPC health service answers: SERVING or NOT_SERVING.</summary>
    public bool Healthy
    {
        get => _healthy;
        set => _healthy = value;
    }

    public static async Task<GrpcPod> StartAsync(string name, IPAddress address, int port)
    {
        var pod = new GrpcPod(name, address);
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(address, port, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddSingleton(pod);
        builder.Services.AddGrpc();
        builder.Services.AddGrpcHealthChecks().AddCheck("pod", () => pod.Healthy ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("told to fail"));
        pod._app = builder.Build();
        pod._app.MapGrpcService<GreeterService>();
        pod._app.MapGrpcHealthChecksService();
        await pod._app.StartAsync();
        string url = pod._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        pod.Port = new Uri(url).Port;
        return pod;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private sealed class GreeterService(GrpcPod pod) : Greeter.GreeterBase
    {
        public override Task<HelloReply> SayHello(HelloRequest request, ServerCallContext context)
        {
            Interlocked.Increment(ref pod._calls);
            return Task.FromResult(new HelloReply { Message = "Hello " + request.Name, Pod = pod.Name });
        }
    }
}
