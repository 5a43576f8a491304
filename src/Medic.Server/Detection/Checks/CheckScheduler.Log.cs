namespace Medic.Server.Detection.Checks;

internal sealed partial class CheckScheduler
{
    [LoggerMessage(410, LogLevel.Information, "Check {CheckId} ({Name}) failed: {Detail}")]
    private partial void LogCheckFailed(string checkId, string name, string detail);

    [LoggerMessage(411, LogLevel.Error, "Check {CheckId} could not be run")]
    private partial void LogCheckCrashed(Exception ex, string checkId);

    [LoggerMessage(412, LogLevel.Error, "Check sweep failed; retrying in 5 s")]
    private partial void LogSweepFailed(Exception ex);
}
