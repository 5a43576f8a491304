using System.Data.Common;
using Dapper;
using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Storage;

namespace Medic.Server.Incidents;

/// <summary>
/// The writes every change to an incident makes inside the transaction that changes it: the row,
/// a timeline event, an audit entry for every change of state, the notifier told, and a new
/// pipeline round where one starts. Ingest, a person's actions and the pipeline's moves build on these.
/// </summary>
internal sealed class IncidentWrites(Database db, AuditLog audit, IncidentPolicy? policy = null, IPipelineEntry? pipeline = null, IIncidentChanges? changes = null)
{
    public const string FlappingMessage = "flapping: notifications are damped until it settles";

    private readonly IncidentPolicy _policy = policy ?? IncidentPolicy.Default;

    /// <summary>Locks the incident row against a person's acknowledge or resolve in another transaction (PostgreSQL; SQLite has one writer).</summary>
    public string RowLock => db.Dialect.Kind == SqlDialectKind.Postgres ? " FOR UPDATE OF i" : "";

    public Task<IncidentRow?> LockAsync(DbConnection c, DbTransaction tx, string tenantId, string id) =>
        c.QuerySingleOrDefaultAsync<IncidentRow>(
            IncidentRow.Select + " WHERE i.tenant_id = @tenantId AND i.id = @id" + RowLock,
            new { tenantId, id, firing = true }, tx);

    /// <summary>Moves the incident by <paramref name="trigger"/>; the refusal when the trigger does not apply in its status now.</summary>
    public async Task<string?> MoveAsync(DbConnection c, DbTransaction tx, IncidentRow row, IncidentTrigger trigger, string actor, string message, IReadOnlyDictionary<string, string>? data, DateTimeOffset at)
    {
        var (to, refusal) = IncidentLifecycle.Next(row.StatusValue, trigger);
        if (to is not { } next) return refusal;
        if (next == IncidentStatus.Resolved)
        {
            await ResolveAsync(c, tx, row, at, actor, message, data);
            await ChangedAsync(c, tx, "resolved", row);
            return null;
        }

        var from = row.Status;
        row.StatusValue = next;
        row.UpdatedAt = at;
        await c.ExecuteAsync("UPDATE incidents SET status = @Status, updated_at = @UpdatedAt WHERE id = @Id", row, tx);
        await AddEventAsync(c, tx, row, at, row.Status, actor, message, data);
        var details = new Dictionary<string, string> { ["from"] = from, ["to"] = row.Status, ["trigger"] = trigger.ToString(), ["message"] = Texts.Truncate(message, 500) };
        await AuditAsync(c, tx, row, actor, "incident." + row.Status, details);
        await ChangedAsync(c, tx, "updated", row);
        return null;
    }

    public async Task ResolveAsync(DbConnection c, DbTransaction tx, IncidentRow row, DateTimeOffset at, string actor, string resolution, IReadOnlyDictionary<string, string>? evidence)
    {
        var flappingBefore = row.Flapping;
        var wasVerifying = row.StatusValue == IncidentStatus.Verifying;
        row.StatusValue = IncidentStatus.Resolved;
        row.ResolvedAt = at;
        row.Resolution = resolution;
        _policy.CountStateChange(row, at);
        await c.ExecuteAsync(
            "UPDATE incident_occurrences SET firing = @no WHERE incident_id = @Id", new { no = false, row.Id }, tx);
        row.Firing = 0;
        await c.ExecuteAsync(
            "UPDATE incidents SET status = @Status, resolved_at = @ResolvedAt, resolution = @Resolution, signal_count = @SignalCount, last_seen_at = @LastSeenAt, " +
            "flapping = @Flapping, flap_window_start = @FlapWindowStart, flap_changes = @FlapChanges, updated_at = @ResolvedAt WHERE id = @Id",
            row, tx);
        await AddEventAsync(c, tx, row, at, "resolved", actor, resolution, evidence);
        if (row.Flapping && !flappingBefore) await AddEventAsync(c, tx, row, at, "flapping", "system", FlappingMessage, null);
        await AuditAsync(c, tx, row, actor, "incident.resolve", new Dictionary<string, string> { ["resolution"] = resolution });
        // Only a verification can wait on a resolve, and only while the incident is verifying: other resolves (most of ingest's) write nothing more.
        if (wasVerifying && pipeline is not null) await pipeline.ResolvedAsync(c, tx, row.Id, row.PipelineRound);
    }

    /// <summary>Starts a new round of the pipeline for the incident (opened, reopened, commented on while escalated).</summary>
    public async Task EnterPipelineAsync(DbConnection c, DbTransaction tx, IncidentRow row, string why)
    {
        if (pipeline is null) return;
        row.PipelineRound++;
        await c.ExecuteAsync("UPDATE incidents SET pipeline_round = @PipelineRound WHERE id = @Id", row, tx);
        await pipeline.EnterAsync(c, tx, row.TenantId, row.Id, row.PipelineRound, why);
    }

    public Task ChangedAsync(DbConnection c, DbTransaction tx, string action, IncidentRow row) =>
        changes is null ? Task.CompletedTask : changes.ChangedAsync(c, tx, row.TenantId, action, row.ToResponse());

    /// <summary>Marks the occurrence firing; true when it was new or had resolved.</summary>
    public static async Task<bool> MarkFiringAsync(DbConnection c, DbTransaction tx, string incidentId, string occurrence, DateTimeOffset at)
    {
        var existing = await c.QuerySingleOrDefaultAsync<OccurrenceRow>(
            "SELECT occurrence, firing, signal_count, first_seen_at, last_seen_at FROM incident_occurrences WHERE incident_id = @incidentId AND occurrence = @occurrence",
            new { incidentId, occurrence }, tx);
        if (existing is null)
        {
            await c.ExecuteAsync(
                "INSERT INTO incident_occurrences (incident_id, occurrence, firing, signal_count, first_seen_at, last_seen_at) VALUES (@incidentId, @occurrence, @yes, 1, @at, @at)",
                new { incidentId, occurrence, yes = true, at }, tx);
            return true;
        }

        await c.ExecuteAsync(
            "UPDATE incident_occurrences SET firing = @yes, signal_count = signal_count + 1, last_seen_at = @at WHERE incident_id = @incidentId AND occurrence = @occurrence",
            new { incidentId, occurrence, yes = true, at }, tx);
        return !existing.Firing;
    }

    public static Task AddEventAsync(DbConnection c, DbTransaction tx, IncidentRow row, DateTimeOffset at, string kind, string actor, string message, IReadOnlyDictionary<string, string>? data) =>
        AddEventAsync(c, tx, row.TenantId, row.Id, at, kind, actor, message, data);

    public static Task AddEventAsync(DbConnection c, DbTransaction tx, string tenantId, string id, DateTimeOffset at, string kind, string actor, string message, IReadOnlyDictionary<string, string>? data) =>
        c.ExecuteAsync(
            "INSERT INTO incident_events (incident_id, tenant_id, at, kind, actor, message, data) VALUES (@id, @tenantId, @at, @kind, @actor, @message, @data)",
            new { id, tenantId, at, kind, actor, message = Texts.Truncate(message, 4000), data = IncidentJson.Write(data) }, tx);

    public Task AuditAsync(DbConnection c, DbTransaction tx, IncidentRow row, string actor, string action, Dictionary<string, string>? details, string? clientAddress = null)
    {
        details ??= [];
        details["fingerprint"] = row.Fingerprint;
        details["severity"] = row.Severity;
        details["title"] = Texts.Truncate(row.Title, 200);
        return audit.AppendAsync(c, tx, new AuditRecord(row.TenantId, actor, action, "incident:" + row.Id, AuditOutcomes.Success, clientAddress, details));
    }
}
