namespace Medic.Server.Runbooks;

internal sealed partial class LoggingRunbookNotifier
{
    [LoggerMessage(710, LogLevel.Information, "Runbook run {RunId} ({Runbook}) on {Server} notifies: {Message}")]
    private partial void LogNotify(string runId, string runbook, string server, string message);
}
