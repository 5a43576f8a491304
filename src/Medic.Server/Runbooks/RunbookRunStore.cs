using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using Dapper;
using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Storage;

namespace Medic.Server.Runbooks;

/// <summary>
/// The stored runbook runs (<c>runbook_runs</c>) and their step results (<c>runbook_run_steps</c>):
/// a run's row is written before anything runs, each step's row as the step finishes, and the
/// run's status with its audit entry when it ends.
/// </summary>
internal sealed class RunbookRunStore(Database db, AuditLog audit, TimeProvider time)
{
    private const string RunColumns = "id, tenant_id, runbook, version, source, content_hash, actor, idempotency_key, params, targets, status, error, created_at, finished_at";

    /// <summary>Inserts <paramref name="row"/>, and runs <paramref name="inTransaction"/> in the same transaction. A taken idempotency key fails as a duplicate.</summary>
    public Task InsertAsync(RunbookRunRow row, Func<DbConnection, DbTransaction, RunbookRunRow, Task>? inTransaction, CancellationToken ct) =>
        db.WriteAsync(async (c, tx) =>
        {
            await c.ExecuteAsync(
                $"INSERT INTO runbook_runs ({RunColumns}) VALUES (@Id, @TenantId, @Runbook, @Version, @Source, @ContentHash, @Actor, @IdempotencyKey, @Params, @Targets, @Status, @Error, @CreatedAt, @FinishedAt)",
                row, tx);
            if (inTransaction is { } also) await also(c, tx, row);
        }, ct);

    /// <summary>The id of the run started under idempotency key <paramref name="key"/> in the tenant, if any.</summary>
    public async Task<string?> FindIdByKeyAsync(string tenantId, string key, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<string>("SELECT id FROM runbook_runs WHERE tenant_id = @tenantId AND idempotency_key = @key", new { tenantId, key });
    }

    public async Task<RunbookRunResponse?> FindByIdempotencyKeyAsync(string tenantId, string key, CancellationToken ct) =>
        await FindIdByKeyAsync(tenantId, key, ct) is { } id ? await GetAsync(tenantId, id, ct) : null;

    public async Task<RunbookRunResponse?> GetAsync(string tenantId, string id, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<RunbookRunRow>($"SELECT {RunColumns} FROM runbook_runs WHERE tenant_id = @tenantId AND id = @id", new { tenantId, id });
        if (row is null) return null;
        var steps = (await c.QueryAsync<RunbookStepRow>(
            "SELECT seq, server, step, name, type, phase, status, exit_code, duration_ms, stdout, stderr, truncated, reason, started_at FROM runbook_run_steps " +
            "WHERE tenant_id = @tenantId AND run_id = @id ORDER BY seq", new { tenantId, id })).Select(s => s.ToResponse()).ToList();
        return new RunbookRunResponse(row.Id, row.Runbook, row.Version, row.StatusValue, false, row.Actor,
            JsonSerializer.Deserialize(row.Targets, RunbookJson.Default.ListString) ?? [],
            JsonSerializer.Deserialize(row.Params, RunbookJson.Default.DictionaryStringString) ?? [], steps, null, row.Error, row.CreatedAt, row.FinishedAt);
    }

    /// <summary>
    /// The tenant's runs, newest first (ids are time-ordered), optionally of one runbook or in one
    /// status; <paramref name="before"/> (a run id) continues a page. One more row than asked is read
    /// to tell whether another page follows.
    /// </summary>
    public async Task<RunbookRunPage> ListAsync(string tenantId, string? runbook, RunbookRunStatus? status, string? before, int limit, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var sql = $"SELECT {RunColumns} FROM runbook_runs WHERE tenant_id = @tenantId"
            + (runbook is null ? "" : " AND runbook = @runbook")
            + (status is null ? "" : " AND status = @status")
            + (before is null ? "" : " AND id < @before")
            + " ORDER BY id DESC LIMIT @take";
        var rows = (await c.QueryAsync<RunbookRunRow>(sql, new { tenantId, runbook, status = status?.ToText(), before, take = limit + 1 })).ToList();
        var items = rows.Take(limit).Select(r => new RunbookRunSummary(r.Id, r.Runbook, r.Version, r.StatusValue, r.Actor,
            JsonSerializer.Deserialize(r.Targets, RunbookJson.Default.ListString) ?? [], r.Error, r.CreatedAt, r.FinishedAt)).ToList();
        return new RunbookRunPage(items, rows.Count > limit ? items[^1].Id : null);
    }

    public Task AddStepAsync(RunbookRunRow run, RunbookStepResponse result) => db.WriteAsync((c, tx) => c.ExecuteAsync(
        "INSERT INTO runbook_run_steps (run_id, tenant_id, seq, server, step, name, type, phase, status, exit_code, duration_ms, stdout, stderr, truncated, reason, started_at) " +
        "VALUES (@RunId, @TenantId, @Seq, @Server, @Step, @Name, @Type, @Phase, @Status, @ExitCode, @DurationMs, @Stdout, @Stderr, @Truncated, @Reason, @StartedAt)",
        new
        {
            RunId = run.Id, run.TenantId, result.Seq, result.Server, result.Step, result.Name, result.Type, result.Phase, Status = result.Status.ToText(), result.ExitCode,
            result.DurationMs, result.Stdout, result.Stderr, result.Truncated, result.Reason, result.StartedAt,
        }, tx));

    /// <summary>Stores the run's end and its <c>runbook.run.finish</c> audit entry, in one transaction.</summary>
    public Task FinishAsync(RunbookRunRow row, RunbookRunStatus status, string? error) => db.WriteAsync(async (c, tx) =>
    {
        await c.ExecuteAsync("UPDATE runbook_runs SET status = @status, error = @error, finished_at = @at WHERE id = @id",
            new { id = row.Id, status = status.ToText(), error = Clip(error, 4000), at = time.GetUtcNow() }, tx);
        var details = new Dictionary<string, string> { ["runbook"] = row.Runbook, ["version"] = row.Version.ToString(CultureInfo.InvariantCulture), ["status"] = status.ToText() };
        if (error is not null) details["error"] = Clip(error, 1000)!;
        await audit.AppendAsync(c, tx, new AuditRecord(row.TenantId, row.Actor, "runbook.run.finish", "runbook_run:" + row.Id,
            status == RunbookRunStatus.Succeeded ? AuditOutcomes.Success : AuditOutcomes.Failed, null, details));
    }, CancellationToken.None);

    /// <summary>At start-up: runs that were going when the process stopped will never finish; they are marked interrupted, never re-run.</summary>
    public Task MarkInterruptedAsync(CancellationToken ct) => db.WriteAsync((c, tx) => c.ExecuteAsync(
        "UPDATE runbook_runs SET status = @interrupted, finished_at = @at, error = 'the control plane stopped during the run; it was not resumed' WHERE status = @running",
        new { interrupted = RunbookRunStatus.Interrupted.ToText(), running = RunbookRunStatus.Running.ToText(), at = time.GetUtcNow() }, tx), ct);

    /// <summary><paramref name="text"/> cut to the <paramref name="max"/> characters a column keeps, with an ellipsis after the cut.</summary>
    public static string? Clip(string? text, int max) => text is null || text.Length <= max ? text : text[..max] + "…";
}
