using System.Data.Common;
using Dapper;
using Medic.Contracts;
using Medic.Server.Storage;

namespace Medic.Server.Detection.Checks;

internal static class CheckKinds
{
    public const string Http = "http";
    public const string Tcp = "tcp";
    public const string Command = "command";

    public static readonly IReadOnlyList<string> All = [Http, Tcp, Command];
}

internal sealed class CheckRow
{
    public string Id { get; set; } = "";
    public string TenantId { get; set; } = "";
    public string Name { get; set; } = "";
    public string Kind { get; set; } = "";
    public string? Target { get; set; }
    public string? ServerId { get; set; }
    public string? ServerName { get; set; }
    public string? Command { get; set; }
    public int? ExpectStatus { get; set; }
    public string? BodyRegex { get; set; }
    public int IntervalSeconds { get; set; }
    public int TimeoutSeconds { get; set; }
    public int Failures { get; set; }
    public string Severity { get; set; } = "";
    /// <summary>The stored text of <see cref="StateValue"/>, for Dapper: unknown text fails the read.</summary>
    public string State { get => StateValue.ToText(); set => StateValue = StateText.Parse<CheckState>(value); }

    public CheckState StateValue { get; set; }
    public int ConsecutiveFailures { get; set; }
    public DateTimeOffset? LastRunAt { get; set; }
    public string? LastDetail { get; set; }
    public DateTimeOffset NextRunAt { get; set; }
    public string CreatedBy { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }

    public CheckResponse ToResponse() => new(Id, Name, Kind, Target, ServerName, Command, ExpectStatus, BodyRegex, IntervalSeconds, TimeoutSeconds, Failures, Severity,
        StateValue, ConsecutiveFailures, LastRunAt, LastDetail, NextRunAt, CreatedBy, CreatedAt);
}

internal sealed class CheckResultRow
{
    public DateTimeOffset At { get; set; }
    public bool Ok { get; set; }
    public long DurationMs { get; set; }
    public string Detail { get; set; } = "";
}

/// <summary>Scheduled checks and their results (kept 7 days). Every query is scoped by tenant, except the scheduler's claim of due checks.</summary>
internal sealed class CheckStore(Database db)
{
    public static readonly TimeSpan ResultsKept = TimeSpan.FromDays(7);

    private const string Columns =
        "c.id, c.tenant_id, c.name, c.kind, c.target, c.server_id, n.name AS server_name, c.command, c.expect_status, c.body_regex, c.interval_seconds, c.timeout_seconds, " +
        "c.failures, c.severity, c.state, c.consecutive_failures, c.last_run_at, c.last_detail, c.next_run_at, c.created_by, c.created_at";

    private const string From = " FROM checks c LEFT JOIN nodes n ON n.id = c.server_id AND n.tenant_id = c.tenant_id";

    public static Task InsertAsync(DbConnection c, DbTransaction tx, CheckRow r) => c.ExecuteAsync(
        "INSERT INTO checks (id, tenant_id, name, kind, target, server_id, command, expect_status, body_regex, interval_seconds, timeout_seconds, failures, severity, state, next_run_at, created_by, created_at) " +
        "VALUES (@Id, @TenantId, @Name, @Kind, @Target, @ServerId, @Command, @ExpectStatus, @BodyRegex, @IntervalSeconds, @TimeoutSeconds, @Failures, @Severity, @State, @NextRunAt, @CreatedBy, @CreatedAt)",
        r, tx);

    public static Task<int> RemoveAsync(DbConnection c, DbTransaction tx, string tenantId, string id, DateTimeOffset at) =>
        c.ExecuteAsync("UPDATE checks SET removed_at = @at WHERE tenant_id = @tenantId AND id = @id AND removed_at IS NULL", new { tenantId, id, at }, tx);

    public async Task<IReadOnlyList<CheckRow>> ListAsync(string tenantId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<CheckRow>("SELECT " + Columns + From + " WHERE c.tenant_id = @tenantId AND c.removed_at IS NULL ORDER BY c.name", new { tenantId })).ToList();
    }

    public async Task<CheckRow?> FindAsync(string tenantId, string idOrName, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await FindAsync(c, null, tenantId, idOrName);
    }

    public static Task<CheckRow?> FindAsync(DbConnection c, DbTransaction? tx, string tenantId, string idOrName) => c.QuerySingleOrDefaultAsync<CheckRow>(
        "SELECT " + Columns + From + " WHERE c.tenant_id = @tenantId AND c.removed_at IS NULL AND (c.id = @idOrName OR c.name = @idOrName)", new { tenantId, idOrName }, tx);

    public async Task<IReadOnlyList<CheckResultResponse>> ResultsAsync(string tenantId, string checkId, int limit, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var rows = await c.QueryAsync<CheckResultRow>(
            "SELECT at, ok, duration_ms, detail FROM check_results WHERE tenant_id = @tenantId AND check_id = @checkId ORDER BY at DESC LIMIT @limit", new { tenantId, checkId, limit });
        return rows.Select(r => new CheckResultResponse(r.At, r.Ok, r.DurationMs, r.Detail)).ToList();
    }

    /// <summary>
    /// Claims the checks due by <paramref name="now"/>: each is moved to its next run time with a
    /// compare-and-set, so of several replicas sweeping at once only one runs a given check.
    /// </summary>
    public async Task<IReadOnlyList<CheckRow>> ClaimDueAsync(DateTimeOffset now, int max, CancellationToken ct)
    {
        List<CheckRow> due;
        await using (var c = await db.OpenAsync(ct))
        {
            due = (await c.QueryAsync<CheckRow>(
                "SELECT " + Columns + From + " WHERE c.removed_at IS NULL AND c.next_run_at <= @now ORDER BY c.next_run_at LIMIT @max", new { now, max })).ToList();
        }

        var claimed = new List<CheckRow>(due.Count);
        foreach (var check in due)
        {
            var next = now.AddSeconds(check.IntervalSeconds);
            var won = await db.WriteAsync((c, tx) => c.ExecuteAsync(
                "UPDATE checks SET next_run_at = @next WHERE id = @Id AND next_run_at = @NextRunAt AND removed_at IS NULL", new { next, check.Id, check.NextRunAt }, tx), ct);
            if (won == 1)
            {
                check.NextRunAt = next;
                claimed.Add(check);
            }
        }

        return claimed;
    }

    /// <summary>Records one run: the result row, the check's state and counters, and prunes old results.</summary>
    public Task RecordAsync(DbConnection c, DbTransaction tx, CheckRow check, DateTimeOffset at, bool ok, long durationMs, string detail) =>
        c.ExecuteAsync(
            "INSERT INTO check_results (check_id, tenant_id, at, ok, duration_ms, detail) VALUES (@Id, @TenantId, @at, @ok, @durationMs, @detail); " +
            "UPDATE checks SET state = @State, consecutive_failures = @ConsecutiveFailures, last_run_at = @at, last_detail = @detail WHERE id = @Id; " +
            "DELETE FROM check_results WHERE check_id = @Id AND at < @cutoff",
            new { check.Id, check.TenantId, check.State, check.ConsecutiveFailures, at, ok, durationMs, detail, cutoff = at - ResultsKept }, tx);

    public Task RecordAsync(CheckRow check, DateTimeOffset at, bool ok, long durationMs, string detail, CancellationToken ct) =>
        db.WriteAsync((c, tx) => RecordAsync(c, tx, check, at, ok, durationMs, detail), ct);

    /// <summary>Makes a check due at once (run now).</summary>
    public Task MakeDueAsync(string id, DateTimeOffset at, CancellationToken ct) =>
        db.WriteAsync((c, tx) => c.ExecuteAsync("UPDATE checks SET next_run_at = @at WHERE id = @id", new { id, at }, tx), ct);
}
