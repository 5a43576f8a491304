namespace Medic.Server.Storage;

internal static partial class StorageFaults
{
    [LoggerMessage(101, LogLevel.Warning, "The database refused a write on {Path} (trace id {TraceId}): {Reason}")]
    public static partial void WriteRefused(ILogger logger, string path, string traceId, string reason);
}
