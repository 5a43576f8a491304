namespace Medic.Server.Notifications;

internal sealed partial class DeliveryJobHandler
{
    [LoggerMessage(810, LogLevel.Information, "Notification {DeliveryId} ({Event}, incident {IncidentId}) sent to channel {Channel} on attempt {Attempt}")]
    private partial void LogSent(string deliveryId, string @event, string? incidentId, string channel, int attempt);

    [LoggerMessage(811, LogLevel.Warning, "Notification {DeliveryId} ({Event}, incident {IncidentId}) to channel {Channel} failed on attempt {Attempt}: {Error}")]
    private partial void LogFailed(string deliveryId, string @event, string? incidentId, string channel, int attempt, string error);
}
