using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Headless.Discovery;

/// <summary>
/// A round's activity, metrics and log lines: the activity starts with the round and carries the service and record
/// type; when the round ends its duration and outcome are recorded (errors counted apart) and logged.
/// </summary>
internal static class ResolutionTelemetry
{
    internal const string ActivityName = "headless_discovery.resolve";
    internal const string RecordTypeTag = "record_type";
    internal const string EndpointCountTag = "endpoint_count";

    /// <summary>The round's activity, or <see langword="null"/> when nobody listens.</summary>
    public static Activity? Start(ServiceName service, string recordType)
    {
        Activity? activity = DiscoveryTelemetry.ActivitySource.StartActivity(ActivityName, ActivityKind.Client);
        activity?.SetTag(DiscoveryTelemetry.ServiceTag, service.Value);
        activity?.SetTag(RecordTypeTag, recordType);
        return activity;
    }

    /// <summary>The round was cancelled by its caller.</summary>
    public static void Canceled(Activity? activity) => activity?.SetTag(DiscoveryTelemetry.OutcomeTag, "canceled");

    /// <summary>Telemetry and logs for a finished round; not in the async method, so its state machine stays small.</summary>
    public static void Finished(ILogger logger, ServiceName service, ResolutionResult result, TimeSpan elapsed, Activity? activity)
    {
        string outcome = OutcomeName(result.Outcome);
        var tags = new TagList
        {
            { DiscoveryTelemetry.ServiceTag, service.Value },
            { DiscoveryTelemetry.OutcomeTag, outcome },
        };
        DiscoveryTelemetry.ResolutionDuration.Record(elapsed.TotalSeconds, tags);
        if (result.Outcome == ResolutionOutcome.Failed)
        {
            DiscoveryTelemetry.ResolutionErrors.Add(1, tags);
            ResolutionLog.ResolutionFailed(logger, service.Value, result.Error?.Message ?? "unknown error", result.Error?.InnerException);
        }

        if (activity is not null)
        {
            activity.SetTag(DiscoveryTelemetry.OutcomeTag, outcome);
            activity.SetTag(EndpointCountTag, result.Endpoints.Length);
            if (result.Outcome == ResolutionOutcome.Failed)
            {
                activity.SetStatus(ActivityStatusCode.Error, result.Error?.Message);
            }
        }

        ResolutionLog.Resolved(logger, service.Value, result.Outcome, result.Endpoints.Length, result.Ttl.TotalSeconds, elapsed.TotalMilliseconds);
    }

    internal static string OutcomeName(ResolutionOutcome outcome) => outcome switch
    {
        ResolutionOutcome.Success => "success",
        ResolutionOutcome.NotFound => "not_found",
        ResolutionOutcome.NoData => "no_data",
        _ => "failed",
    };
}
