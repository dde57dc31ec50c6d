using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace Headless.Discovery.Examples.Tests;

/// <summary>Waits on the app's own live service (a signal, not a sleep) and reads its endpoints over HTTP.</summary>
internal static class AppProbe
{

    /// <summary>Waits until the app's <c>backend</c> service publishes a snapshot matching <paramref name="condition"/>.</summary>
    public static async Task WaitForAsync(IServiceProvider services, Func<EndpointSet, bool> condition)
    {
        IHeadlessService backend = services.GetRequiredKeyedService<IHeadlessService>("backend");
        using var timeout = new CancellationTokenSource(Generous);
        try
        {
            await foreach (EndpointSetChange change in backend.WatchAsync(timeout.Token))
            {
                if (condition(change.Current))
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new TimeoutException($"The app's backend service never matched; last: {backend.Current}.");
        }
    }

    public static async Task<JsonElement> GetJsonAsync(HttpClient client, string path, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using HttpResponseMessage response = await client.GetAsync(path).WaitAsync(Generous);
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"GET {path}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    public static string[] Keys(JsonElement pods) =>
        pods.GetProperty("endpoints").EnumerateArray().Select(e => $"{e.GetProperty("address").GetString()}:{e.GetProperty("port").GetInt32()}").Order(StringComparer.Ordinal).ToArray();
}
