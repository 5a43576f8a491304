using Dapper;

namespace Medic.Server.Storage;

/// <summary>
/// Whether the database still takes writes, for <c>/readyz</c>: a one-row write, and for SQLite
/// also the free space of the disk that holds the file (a write can still fit into the existing
/// write-ahead log while the disk is full). The answer is kept for a few seconds, so frequent
/// readiness probes cost one small write at most that often, and a recovered disk shows as ready
/// within that time, without a restart.
/// </summary>
internal sealed class WriteProbe(Database db, TimeProvider time)
{
    public static readonly TimeSpan CachedFor = TimeSpan.FromSeconds(2);

    /// <summary>Below this much free space on the SQLite file's disk, the database counts as unwritable.</summary>
    public const long MinimumFreeBytes = 1024 * 1024;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private (DateTimeOffset At, string? Problem)? _last;

    /// <summary>Why the database cannot be written, or null when it can.</summary>
    public async Task<string?> ProblemAsync(CancellationToken ct = default)
    {
        await _gate.WaitAsync(ct);
        try
        {
            var now = time.GetUtcNow();
            if (_last is { } last && now - last.At < CachedFor)
            {
                return last.Problem;
            }

            var problem = await ProbeAsync(now, ct);
            _last = (time.GetUtcNow(), problem);
            return problem;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<string?> ProbeAsync(DateTimeOffset now, CancellationToken ct)
    {
        if (db.SqlitePath is { } file && FreeBytes(file) is { } free && free < MinimumFreeBytes)
        {
            return $"The database cannot be written: the disk that holds {file} has {free / 1024} KiB free (Medic needs at least {MinimumFreeBytes / 1024 / 1024} MiB).";
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            await db.WriteAsync((c, tx) => c.ExecuteAsync(
                "INSERT INTO readiness_probe (id, at) VALUES (1, @now) ON CONFLICT (id) DO UPDATE SET at = excluded.at", new { now }, tx), timeout.Token);
            return null;
        }
        catch (Exception ex) when (StorageFaults.IsUnwritable(ex))
        {
            return StorageFaults.Describe(ex);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return "The database did not accept a one-row write within 10 s.";
        }
    }

    private static long? FreeBytes(string file)
    {
        try
        {
            return new DriveInfo(Path.GetDirectoryName(Path.GetFullPath(file))!).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }
}
