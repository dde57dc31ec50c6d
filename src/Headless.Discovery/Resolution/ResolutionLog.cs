using Microsoft.Extensions.Logging;

namespace Headless.Discovery;

// Event ids 1000-1099 belong to resolution.
internal static partial class ResolutionLog
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Debug, Message = "Resolving {Service} ({RecordType}) via {DnsServers}.")]
    public static partial void Resolving(ILogger logger, string service, string recordType, string dnsServers);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Debug, Message = "Resolved {Service}: {Outcome}, {EndpointCount} endpoint(s), TTL {TtlSeconds} s, in {ElapsedMs:0.#} ms.")]
    public static partial void Resolved(ILogger logger, string service, ResolutionOutcome outcome, int endpointCount, double ttlSeconds, double elapsedMs);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "Resolving {Service} failed: {Reason}")]
    public static partial void ResolutionFailed(ILogger logger, string service, string reason, Exception? exception);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Debug, Message = "DNS {RecordType} query for {Name} to {NameServer} failed on attempt {Attempt} ({Reason}); retrying in {DelayMs:0.#} ms.")]
    public static partial void Retrying(ILogger logger, string recordType, string name, string nameServer, int attempt, string reason, double delayMs);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Warning, Message = "The answer for {Service} holds {Count} endpoints, more than MaxEndpoints = {MaxEndpoints}; keeping the first {MaxEndpoints} in address order and dropping {Dropped}.")]
    public static partial void EndpointsCapped(ILogger logger, string service, int count, int maxEndpoints, int dropped);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Warning, Message = "Dropped addresses from the answer for {Name}: {Unspecified} unspecified, {Multicast} multicast, {Broadcast} broadcast.")]
    public static partial void AddressesDropped(ILogger logger, string name, int unspecified, int multicast, int broadcast);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Debug, Message = "Dropped {Duplicates} duplicate record(s) from the answer for {Name}.")]
    public static partial void DuplicatesDropped(ILogger logger, string name, int duplicates);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Warning, Message = "Dropped SRV target '{Target}' of {Service}: {Reason}")]
    public static partial void SrvTargetInvalid(ILogger logger, string service, string target, string reason);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Warning, Message = "Skipped SRV target {Target} of {Service}: its address lookup ended {Outcome}.")]
    public static partial void SrvTargetUnresolved(ILogger logger, string service, string target, ResolutionOutcome outcome, Exception? exception);

    [LoggerMessage(EventId = 1009, Level = LogLevel.Warning, Message = "The CNAME chain for {Name} is longer than {MaxLength} links; the answer is rejected.")]
    public static partial void CnameChainTooLong(ILogger logger, string name, int maxLength);

    [LoggerMessage(EventId = 1010, Level = LogLevel.Error, Message = "No DNS name servers: none configured in HeadlessServiceOptions.DnsServers and none found in the system configuration. Every resolution will fail.")]
    public static partial void NoDnsServers(ILogger logger);

    [LoggerMessage(EventId = 1011, Level = LogLevel.Warning, Message = "Resolving {Service} with both address families: the {FailedFamily} query failed while the other ended {OtherOutcome}; the round counts as failed so that the last known endpoints are kept.")]
    public static partial void AddressFamilyFailed(ILogger logger, string service, string failedFamily, ResolutionOutcome otherOutcome);

    [LoggerMessage(EventId = 1012, Level = LogLevel.Debug, Message = "Ignored {Count} record(s) in the answer for {Name} that belong to other names.")]
    public static partial void ForeignRecordsIgnored(ILogger logger, string name, int count);
}
