namespace Medic.Server.Detection.Monitors;

internal sealed partial class MonitorPusher
{
    [LoggerMessage(420, LogLevel.Warning, "Monitors for {NodeId} not applied: {Status} {Reason}")]
    private partial void LogPushFailed(string nodeId, string status, string reason);

    [LoggerMessage(421, LogLevel.Error, "Pushing monitors to tenant {TenantId} failed")]
    private partial void LogPushCrashed(Exception ex, string tenantId);
}
