namespace Medic.Server.Audit;

internal sealed partial class AuditCheckpointer
{
    [LoggerMessage(901, LogLevel.Information, "Audit chain {Chain} checkpointed at entry {Seq}")]
    private partial void Signed(string chain, long seq);

    [LoggerMessage(902, LogLevel.Error, "Audit chain {Chain} does not verify (broken at entry {Seq}); no checkpoint was signed. Run 'medic audit verify'")]
    private partial void ChainBroken(string chain, long seq);

    [LoggerMessage(903, LogLevel.Warning, "The checkpoint webhook refused checkpoint {Chain}/{Seq} with HTTP {Status}")]
    private partial void WebhookRefused(string chain, long seq, int status);

    [LoggerMessage(904, LogLevel.Warning, "The checkpoint webhook could not be reached for checkpoint {Chain}/{Seq}: {Error}")]
    private partial void WebhookFailed(string chain, long seq, string error);

    [LoggerMessage(905, LogLevel.Error, "An audit checkpoint round failed")]
    private partial void RoundFailed(Exception ex);
}
