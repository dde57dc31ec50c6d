using System.Text.Json;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Headless.Discovery.Examples.AspNetCore;

/// <summary>Writes a health report as <c>{"status":"Healthy","checks":{"name":{"status":…,"description":…,"data":{…}}}}</c>.</summary>
internal static class HealthzWriter
{
    public static Task WriteAsync(HttpContext context, HealthReport report)
    {
        var checks = report.Entries.ToDictionary(
            e => e.Key,
            e => new { status = e.Value.Status.ToString(), description = e.Value.Description, data = e.Value.Data });
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new { status = report.Status.ToString(), checks }));
    }
}
