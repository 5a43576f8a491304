namespace Medic.Server.Fleet;

internal sealed partial class SshRunner
{
    [LoggerMessage(301, LogLevel.Information, "Agentless server {NodeId} ({Name}) unreachable: {Reason}")]
    private static partial void LogUnreachable(ILogger log, string nodeId, string name, string reason);

    [LoggerMessage(302, LogLevel.Debug, "Opened an ssh master connection to agentless server {NodeId} ({Name}) at {Address}")]
    private static partial void LogMasterOpened(ILogger log, string nodeId, string name, string address);

    [LoggerMessage(303, LogLevel.Information, "Pinned the host key {Fingerprint} of agentless server {NodeId} ({Name}) on first contact")]
    private static partial void LogHostKeyPinned(ILogger log, string nodeId, string name, string fingerprint);
}
