namespace Medic.Server.Notifications;

internal sealed partial class IncidentNotifier
{
    [LoggerMessage(801, LogLevel.Warning, "Could not refresh the tenants with notification rules; retrying in a minute")]
    private partial void LogRefreshFailed(Exception ex);
}
