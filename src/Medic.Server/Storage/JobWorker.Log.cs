namespace Medic.Server.Storage;

internal sealed partial class JobWorker
{
    [LoggerMessage(110, LogLevel.Warning, "Job {JobId} ({Kind}) attempt {Attempt} failed: {Error}")]
    private partial void LogJobFailed(string jobId, string kind, int attempt, string error);

    [LoggerMessage(111, LogLevel.Error, "Job worker failed; retrying in 2 s")]
    private partial void LogWorkerFailed(Exception ex);

    [LoggerMessage(112, LogLevel.Information, "Freed the leases of {Count} jobs whose worker process on this machine is gone")]
    private partial void LogOrphansFreed(int count);
}
