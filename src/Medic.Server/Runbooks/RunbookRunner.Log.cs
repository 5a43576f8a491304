namespace Medic.Server.Runbooks;

internal sealed partial class RunbookRunner
{
    [LoggerMessage(701, LogLevel.Information, "Runbook run {RunId} started: {Runbook} v{Version} on {Targets} by {Actor}")]
    private partial void LogStarted(string runId, string runbook, int version, string targets, string actor);

    [LoggerMessage(702, LogLevel.Information, "Runbook run {RunId} ({Runbook}) {Status} {Error}")]
    private partial void LogFinished(string runId, string runbook, string status, string error);

    [LoggerMessage(703, LogLevel.Error, "Runbook run {RunId} stopped on an internal error")]
    private partial void LogRunCrashed(Exception ex, string runId);

    [LoggerMessage(704, LogLevel.Information, "Runbook run {RunId} was still going when the server stopped; the next start marks it interrupted")]
    private partial void LogStoppedWithProcess(string runId);
}
