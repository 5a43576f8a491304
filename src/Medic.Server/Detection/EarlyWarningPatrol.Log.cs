namespace Medic.Server.Detection;

internal sealed partial class EarlyWarningPatrol
{
    [LoggerMessage(401, LogLevel.Information, "Early warning: {Servers} servers, {Forecasts} forecasts, {Raised} warnings raised or repeated, {Cleared} cleared")]
    private partial void SweepDone(int servers, int forecasts, int raised, int cleared);

    [LoggerMessage(402, LogLevel.Error, "Early warning sweep failed; the next one runs at the next interval")]
    private partial void SweepFailed(Exception ex);

    [LoggerMessage(403, LogLevel.Error, "Early warning for server {NodeId} failed; the other servers were forecast")]
    private partial void ServerFailed(string nodeId, Exception ex);
}
