using Grpc.Core;
using Grpc.Net.Client.Balancer;
using Grpc.Net.Client.Configuration;
using Headless.Discovery.Examples.Grpc;
using Microsoft.AspNetCore.Server.Kestrel.Core;

// Two roles in one program:
//   server  a greeter pod: gRPC over h2c on port 5000 (Greeter + the grpc.health.v1 service)
//   client  calls the greeter once a second through headless:///greeter and prints which pod answered
string role = args.FirstOrDefault() ?? "client";
if (role == "server")
{
    WebApplicationBuilder server = WebApplication.CreateBuilder(args);
    server.WebHost.ConfigureKestrel(k => k.ListenAnyIP(5000, l => l.Protocols = HttpProtocols.Http2));
    server.Services.AddGrpc();
    server.Services.AddGrpcHealthChecks();
    WebApplication app = server.Build();
    app.MapGrpcService<GreeterService>();
    app.MapGrpcHealthChecksService();
    await app.RunAsync();
    return;
}

WebApplicationBuilder builder = WebApplication.CreateBuilder(args);

// HeadlessDiscovery:Services:greeter (appsettings.json, or HeadlessDiscovery__Services__greeter__Name=… in the pod)
// names the headless Service; the channel balances over its available pods and follows every change.
builder.Services.AddHeadlessService("greeter");
builder.Services.AddHeadlessGrpcResolver();
builder.Services.AddGrpcClient<Greeter.GreeterClient>(o => o.Address = new Uri("headless:///greeter"))
    .ConfigureChannel(o =>
    {
        o.Credentials = ChannelCredentials.Insecure;
        o.ServiceConfig = new ServiceConfig { LoadBalancingConfigs = { new RoundRobinConfig() } };
    });
builder.Services.AddHostedService<CallLoop>();
await builder.Build().RunAsync();

/// <summary>The greeter: answers with the pod's hostname.</summary>
internal sealed class GreeterService : Greeter.GreeterBase
{
    public override Task<HelloReply> SayHello(HelloRequest request, ServerCallContext context) =>
        Task.FromResult(new HelloReply { Message = $"Hello {request.Name}", Pod = Environment.MachineName });
}

/// <summary>Calls the greeter once a second and prints which pod answered (or why none did).</summary>
internal sealed partial class CallLoop(Greeter.GreeterClient client, ILogger<CallLoop> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                HelloReply reply = await client.SayHelloAsync(new HelloRequest { Name = "client" }, deadline: DateTime.UtcNow.AddSeconds(5), cancellationToken: stoppingToken);
                LogAnswer(logger, reply.Message, reply.Pod);
            }
            catch (RpcException e) when (!stoppingToken.IsCancellationRequested)
            {
                LogNoAnswer(logger, e.StatusCode, e.Status.Detail);
            }
        }
    }

    [LoggerMessage(LogLevel.Information, "{Message} from {Pod}")]
    private static partial void LogAnswer(ILogger logger, string message, string pod);

    [LoggerMessage(LogLevel.Warning, "No answer: {Status} {Detail}")]
    private static partial void LogNoAnswer(ILogger logger, StatusCode status, string detail);
}
