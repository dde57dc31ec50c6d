// dotnet add package Headless.Discovery.Yarp
var builder = WebApplication.CreateBuilder(args);
builder.Services.AddHeadlessService("backend");                    // HeadlessDiscovery:Services:backend (appsettings.json)
builder.Services.AddReverseProxy()
    .LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"))
    .AddHeadlessDiscoveryDestinations();                            // "http://backend/" -> one destination per available pod

var app = builder.Build();
app.MapReverseProxy();
app.Run();
