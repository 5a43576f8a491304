namespace Medic.Server.Gateway;

internal static partial class AgentGateway
{
    [LoggerMessage(201, LogLevel.Information, "Agent {NodeId} ({Name}) connected from {Address}")]
    private static partial void LogConnected(ILogger log, string nodeId, string name, string? address);

    [LoggerMessage(202, LogLevel.Information, "Agent {NodeId} dropped: {Reason}")]
    private static partial void LogDropped(ILogger log, string nodeId, string reason);

    [LoggerMessage(203, LogLevel.Information, "Agent {NodeId} event {Kind}: {Message}")]
    private static partial void LogAgentEvent(ILogger log, string nodeId, string kind, string message);

    [LoggerMessage(205, LogLevel.Warning, "Agent {NodeId} reported on task {TaskId}, which was sent to another node; dropped")]
    private static partial void LogForeignTask(ILogger log, string nodeId, string taskId);

    [LoggerMessage(204, LogLevel.Error, "Agent {NodeId} event {EventId} ({Kind}) could not be recorded as an incident")]
    private static partial void LogEventLost(ILogger log, Exception ex, string nodeId, string eventId, string kind);
}
