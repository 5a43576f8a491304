namespace Medic.Server.Fleet;

internal sealed partial class Executions
{
    [LoggerMessage(310, LogLevel.Error, "Execution {ExecutionId} failed")]
    private partial void LogFailed(Exception ex, string executionId);
}
