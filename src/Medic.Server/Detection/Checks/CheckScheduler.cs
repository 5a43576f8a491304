using Dapper;
using Medic.Server.Common;
using Medic.Server.Storage;
using Microsoft.Extensions.Options;

namespace Medic.Server.Detection.Checks;

/// <summary>
/// Runs scheduled checks when they are due: it sweeps at least every <c>checks.sweep_seconds</c>
/// (60 by default), sooner when a check's own interval says so or when one is added or run by hand.
/// At most 16 checks run at once.
/// </summary>
internal sealed partial class CheckScheduler(CheckStore store, CheckRunner runner, Database db, IOptions<MedicOptions> options, TimeProvider time, ILogger<CheckScheduler> log)
    : BackgroundService
{
    private readonly SemaphoreSlim _wake = new(0, 1);

    /// <summary>Sweeps now instead of at the next tick (a check was added or asked to run).</summary>
    public void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var sweep = TimeSpan.FromSeconds(options.Value.Checks.SweepSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await SweepAsync(stoppingToken);
                var wait = sweep;
                await using (var c = await db.OpenAsync(stoppingToken))
                {
                    var next = await c.ExecuteScalarAsync<DateTimeOffset?>("SELECT MIN(next_run_at) FROM checks WHERE removed_at IS NULL");
                    if (next is { } n && n - time.GetUtcNow() < wait) wait = n - time.GetUtcNow();
                }

                if (wait > TimeSpan.Zero) await _wake.WaitAsync(wait, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogSweepFailed(ex);
                await Task.Delay(TimeSpan.FromSeconds(5), time, stoppingToken);
            }
        }
    }

    /// <summary>Runs every check due now; returns how many ran.</summary>
    public async Task<int> SweepAsync(CancellationToken ct)
    {
        var due = await store.ClaimDueAsync(time.GetUtcNow(), 500, ct);
        await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (check, token) =>
        {
            try
            {
                var (ok, detail) = await runner.RunAsync(check, token);
                if (!ok) LogCheckFailed(check.Id, check.Name, detail);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogCheckCrashed(ex, check.Id);
            }
        });
        return due.Count;
    }
}
