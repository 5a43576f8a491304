using System.Data.Common;
using Dapper;
using Medic.Contracts;
using Medic.Server.Common;
using Medic.Server.Incidents;
using Medic.Server.Runbooks;
using Medic.Server.Storage;

namespace Medic.Server.Pipeline;

internal static class GateNames
{
    public static string Name(GateOutcome outcome) => outcome switch
    {
        GateOutcome.AutoRun => "auto_run",
        GateOutcome.NeedsApproval => "needs_approval",
        _ => "escalate",
    };
}

internal sealed class RemediationRow
{
    public string Id { get; set; } = "";
    public string TenantId { get; set; } = "";
    public string IncidentId { get; set; } = "";
    public int Round { get; set; }
    public string Runbook { get; set; } = "";
    public int Version { get; set; }
    public string Risk { get; set; } = "";
    public string Params { get; set; } = "{}";
    public string? ServerId { get; set; }
    public string? ServerName { get; set; }
    public string ProposedBy { get; set; } = "";
    public string Trust { get; set; } = "";
    public string Gate { get; set; } = "";
    public string GateReason { get; set; } = "";
    /// <summary>The stored text of <see cref="StatusValue"/>, for Dapper: unknown text fails the read.</summary>
    public string Status { get => StatusValue.ToText(); set => StatusValue = StateText.Parse<RemediationStatus>(value); }

    public RemediationStatus StatusValue { get; set; }
    public string? RunId { get; set; }
    public string? Verification { get; set; }
    public string? Error { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }

    public IReadOnlyDictionary<string, string> ParamMap => IncidentJson.Map(Params) ?? new Dictionary<string, string>();

    public RemediationResponse ToResponse() => new(Id, IncidentId, Round, Runbook, Version, Risk, ParamMap, ServerId, ServerName, ProposedBy, Trust, Gate, GateReason,
        StatusValue, RunId, Verification, Error, CreatedAt, FinishedAt);
}

internal sealed class ApprovalRow
{
    public string Id { get; set; } = "";
    public string TenantId { get; set; } = "";
    public string IncidentId { get; set; } = "";
    public string RemediationId { get; set; } = "";
    public string RequestedBy { get; set; } = "";
    public string Reason { get; set; } = "";
    /// <summary>The stored text of <see cref="StatusValue"/>, for Dapper: unknown text fails the read.</summary>
    public string Status { get => StatusValue.ToText(); set => StatusValue = StateText.Parse<ApprovalStatus>(value); }

    public ApprovalStatus StatusValue { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public string? DecidedBy { get; set; }
    public DateTimeOffset? DecidedAt { get; set; }
    public string? Comment { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>A tenant's automation settings; a tenant that never set them gets <see cref="Default"/>.</summary>
internal sealed class PipelineSettingsRow
{
    public const int DefaultBlastRadius = 10;
    public const int DefaultApprovalTtlSeconds = 3600;

    public string TenantId { get; set; } = "";
    public bool Automation { get; set; } = true;
    public int BlastRadiusPerHour { get; set; } = DefaultBlastRadius;
    public int ApprovalTtlSeconds { get; set; } = DefaultApprovalTtlSeconds;
    public string? TriageRules { get; set; }
    public string? UpdatedBy { get; set; }
    public DateTimeOffset? UpdatedAt { get; set; }

    public PipelineSettingsResponse ToResponse() => new(Automation, BlastRadiusPerHour, ApprovalTtlSeconds, !string.IsNullOrEmpty(TriageRules), UpdatedBy, UpdatedAt);
}

internal sealed class ChangeWindowRow
{
    public string Id { get; set; } = "";
    public string TenantId { get; set; } = "";
    public DateTimeOffset StartsAt { get; set; }
    public DateTimeOffset EndsAt { get; set; }
    public string Reason { get; set; } = "";
    public string CreatedBy { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }

    public ChangeWindowResponse ToResponse(DateTimeOffset now) => new(Id, StartsAt, EndsAt, Reason, CreatedBy, CreatedAt, StartsAt <= now && now < EndsAt);
}

/// <summary>The pipeline's rows: remediations, approvals, settings and change windows. Every query filters on the tenant.</summary>
internal sealed class PipelineStore(Database db, TimeProvider time)
{
    private const string RemediationColumns =
        "id, tenant_id, incident_id, round, runbook, version, risk, params, server_id, server_name, proposed_by, trust, gate, gate_reason, status, run_id, verification, error, created_at, finished_at";

    private const string ApprovalColumns = "id, tenant_id, incident_id, remediation_id, requested_by, reason, status, expires_at, decided_by, decided_at, comment, created_at";

    public static async Task<PipelineSettingsRow> SettingsAsync(DbConnection c, DbTransaction? tx, string tenantId) =>
        await c.QuerySingleOrDefaultAsync<PipelineSettingsRow>(
            "SELECT tenant_id, automation, blast_radius_per_hour, approval_ttl_seconds, triage_rules, updated_by, updated_at FROM pipeline_settings WHERE tenant_id = @tenantId",
            new { tenantId }, tx) ?? new PipelineSettingsRow { TenantId = tenantId };

    public async Task<PipelineSettingsRow> SettingsAsync(string tenantId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await SettingsAsync(c, null, tenantId);
    }

    public static Task SaveSettingsAsync(DbConnection c, DbTransaction tx, PipelineSettingsRow s) => c.ExecuteAsync(
        "INSERT INTO pipeline_settings (tenant_id, automation, blast_radius_per_hour, approval_ttl_seconds, triage_rules, updated_by, updated_at) " +
        "VALUES (@TenantId, @Automation, @BlastRadiusPerHour, @ApprovalTtlSeconds, @TriageRules, @UpdatedBy, @UpdatedAt) " +
        "ON CONFLICT (tenant_id) DO UPDATE SET automation = @Automation, blast_radius_per_hour = @BlastRadiusPerHour, approval_ttl_seconds = @ApprovalTtlSeconds, " +
        "triage_rules = @TriageRules, updated_by = @UpdatedBy, updated_at = @UpdatedAt", s, tx);

    /// <summary>What the risk gate needs to know of the moment for this recipe on this server.</summary>
    public static async Task<GateContext> GateContextAsync(DbConnection c, DbTransaction? tx, string tenantId, string? serverId, string runbook, PipelineSettingsRow settings, DateTimeOffset now)
    {
        var autoRuns = await c.ExecuteScalarAsync<int>(
            "SELECT COUNT(*) FROM remediations WHERE tenant_id = @tenantId AND gate = @auto AND created_at >= @since",
            new { tenantId, auto = GateNames.Name(GateOutcome.AutoRun), since = now.AddHours(-1) }, tx);
        var failures = serverId is null ? 0 : await c.ExecuteScalarAsync<int>(
            "SELECT COUNT(*) FROM remediations WHERE tenant_id = @tenantId AND server_id = @serverId AND runbook = @runbook AND status = @failed AND finished_at >= @since",
            new { tenantId, serverId, runbook, failed = RemediationStatus.Failed.ToText(), since = now.AddHours(-24) }, tx);
        var inWindow = await c.ExecuteScalarAsync<int>(
            "SELECT COUNT(*) FROM change_windows WHERE tenant_id = @tenantId AND starts_at <= @now AND ends_at > @now", new { tenantId, now }, tx) > 0;
        return new GateContext(autoRuns, settings.BlastRadiusPerHour, failures, inWindow);
    }

    /// <summary>The latest remediation with <paramref name="runbook"/> a person rejected on this incident, in any round; null when none.</summary>
    public static Task<RemediationRow?> RejectedAsync(DbConnection c, DbTransaction? tx, string tenantId, string incidentId, string runbook) =>
        c.QueryFirstOrDefaultAsync<RemediationRow>(
            $"SELECT {RemediationColumns} FROM remediations WHERE tenant_id = @tenantId AND incident_id = @incidentId AND runbook = @runbook AND status = @rejected ORDER BY round DESC",
            new { tenantId, incidentId, runbook, rejected = RemediationStatus.Rejected.ToText() }, tx);

    public static Task InsertRemediationAsync(DbConnection c, DbTransaction tx, RemediationRow r) => c.ExecuteAsync(
        $"INSERT INTO remediations ({RemediationColumns}) VALUES (@Id, @TenantId, @IncidentId, @Round, @Runbook, @Version, @Risk, @Params, @ServerId, @ServerName, @ProposedBy, " +
        "@Trust, @Gate, @GateReason, @Status, @RunId, @Verification, @Error, @CreatedAt, @FinishedAt)", r, tx);

    public static Task UpdateRemediationAsync(DbConnection c, DbTransaction tx, RemediationRow r) => c.ExecuteAsync(
        "UPDATE remediations SET status = @Status, run_id = @RunId, verification = @Verification, error = @Error, finished_at = @FinishedAt WHERE id = @Id AND tenant_id = @TenantId", r, tx);

    public static Task<RemediationRow?> RemediationAsync(DbConnection c, DbTransaction? tx, string tenantId, string incidentId, int round) =>
        c.QuerySingleOrDefaultAsync<RemediationRow>($"SELECT {RemediationColumns} FROM remediations WHERE tenant_id = @tenantId AND incident_id = @incidentId AND round = @round",
            new { tenantId, incidentId, round }, tx);

    public static Task<RemediationRow?> RemediationByIdAsync(DbConnection c, DbTransaction? tx, string tenantId, string id) =>
        c.QuerySingleOrDefaultAsync<RemediationRow>($"SELECT {RemediationColumns} FROM remediations WHERE tenant_id = @tenantId AND id = @id", new { tenantId, id }, tx);

    public async Task<IReadOnlyList<RemediationRow>> RemediationsAsync(string tenantId, string incidentId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<RemediationRow>(
            $"SELECT {RemediationColumns} FROM remediations WHERE tenant_id = @tenantId AND incident_id = @incidentId ORDER BY round", new { tenantId, incidentId })).ToList();
    }

    public static Task InsertApprovalAsync(DbConnection c, DbTransaction tx, ApprovalRow a) => c.ExecuteAsync(
        $"INSERT INTO approvals ({ApprovalColumns}) VALUES (@Id, @TenantId, @IncidentId, @RemediationId, @RequestedBy, @Reason, @Status, @ExpiresAt, @DecidedBy, @DecidedAt, @Comment, @CreatedAt)", a, tx);

    /// <summary>The incident's approvals still waiting for a decision, oldest first (one at most once re-proposals fold into it).</summary>
    public static async Task<IReadOnlyList<ApprovalRow>> PendingApprovalsAsync(DbConnection c, DbTransaction tx, string tenantId, string incidentId) =>
        (await c.QueryAsync<ApprovalRow>(
            $"SELECT {ApprovalColumns} FROM approvals WHERE tenant_id = @tenantId AND incident_id = @incidentId AND status = @pending ORDER BY created_at, id",
            new { tenantId, incidentId, pending = ApprovalStatus.Pending.ToText() }, tx)).ToList();

    /// <summary>A pending approval carried over to a re-proposal of the same request: its remediation, reason and expiry.</summary>
    public static Task RenewApprovalAsync(DbConnection c, DbTransaction tx, ApprovalRow a) => c.ExecuteAsync(
        "UPDATE approvals SET remediation_id = @RemediationId, reason = @Reason, expires_at = @ExpiresAt WHERE id = @Id AND tenant_id = @TenantId", a, tx);

    public static Task DecideApprovalAsync(DbConnection c, DbTransaction tx, ApprovalRow a) => c.ExecuteAsync(
        "UPDATE approvals SET status = @Status, decided_by = @DecidedBy, decided_at = @DecidedAt, comment = @Comment WHERE id = @Id AND tenant_id = @TenantId", a, tx);

    /// <summary>The approval, locked against a second decision in another transaction (PostgreSQL; SQLite has one writer).</summary>
    public Task<ApprovalRow?> LockApprovalAsync(DbConnection c, DbTransaction tx, string tenantId, string id) => c.QuerySingleOrDefaultAsync<ApprovalRow>(
        $"SELECT {ApprovalColumns} FROM approvals WHERE tenant_id = @tenantId AND id = @id" + (db.Dialect.Kind == SqlDialectKind.Postgres ? " FOR UPDATE" : ""), new { tenantId, id }, tx);

    public async Task<ApprovalRow?> ApprovalAsync(string tenantId, string id, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<ApprovalRow>($"SELECT {ApprovalColumns} FROM approvals WHERE tenant_id = @tenantId AND id = @id", new { tenantId, id });
    }

    /// <summary>Newest first; <paramref name="status"/> null means every status.</summary>
    public async Task<IReadOnlyList<ApprovalRow>> ApprovalsAsync(string tenantId, ApprovalStatus? status, string? incidentId, int limit, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<ApprovalRow>(
            $"SELECT {ApprovalColumns} FROM approvals WHERE tenant_id = @tenantId" + (status is null ? "" : " AND status = @status") +
            (incidentId is null ? "" : " AND incident_id = @incidentId") + " ORDER BY created_at DESC, id DESC LIMIT @limit",
            new { tenantId, status = status?.ToText(), incidentId, limit })).ToList();
    }

    /// <summary>Remediations executing or being verified now.</summary>
    public async Task<int> RunningCountAsync(string tenantId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (int)await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM remediations WHERE tenant_id = @tenantId AND status IN (@executing, @verifying)",
            new { tenantId, executing = RemediationStatus.Executing.ToText(), verifying = RemediationStatus.Verifying.ToText() });
    }

    public async Task<IReadOnlyList<ChangeWindowRow>> WindowsAsync(string tenantId, bool includePast, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<ChangeWindowRow>(
            "SELECT id, tenant_id, starts_at, ends_at, reason, created_by, created_at FROM change_windows WHERE tenant_id = @tenantId" +
            (includePast ? "" : " AND ends_at > @now") + " ORDER BY starts_at", new { tenantId, now = time.GetUtcNow() })).ToList();
    }

    public static Task InsertWindowAsync(DbConnection c, DbTransaction tx, ChangeWindowRow w) => c.ExecuteAsync(
        "INSERT INTO change_windows (id, tenant_id, starts_at, ends_at, reason, created_by, created_at) VALUES (@Id, @TenantId, @StartsAt, @EndsAt, @Reason, @CreatedBy, @CreatedAt)", w, tx);

    public static Task<ChangeWindowRow?> WindowAsync(DbConnection c, DbTransaction tx, string tenantId, string id) => c.QuerySingleOrDefaultAsync<ChangeWindowRow>(
        "SELECT id, tenant_id, starts_at, ends_at, reason, created_by, created_at FROM change_windows WHERE tenant_id = @tenantId AND id = @id", new { tenantId, id }, tx);

    public static Task DeleteWindowAsync(DbConnection c, DbTransaction tx, string tenantId, string id) =>
        c.ExecuteAsync("DELETE FROM change_windows WHERE tenant_id = @tenantId AND id = @id", new { tenantId, id }, tx);

    public static string NewApprovalId() => Ids.New("apr");
}
