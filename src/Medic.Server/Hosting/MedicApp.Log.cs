namespace Medic.Server.Hosting;

public static partial class MedicApp
{
    [LoggerMessage(1001, LogLevel.Error, "Unhandled error on {Path} (trace id {TraceId})")]
    private static partial void LogUnhandled(ILogger logger, Exception? ex, string path, string traceId);
}
