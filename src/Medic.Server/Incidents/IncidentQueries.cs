using System.Data.Common;
using Dapper;
using Medic.Contracts;
using Medic.Server.Storage;

namespace Medic.Server.Incidents;

/// <summary>Reads the incident record for people and for other capabilities: a page of incidents, or one with its occurrences and timeline.</summary>
internal sealed class IncidentQueries(Database db)
{
    public async Task<IncidentDetailResponse?> GetAsync(string tenantId, string id, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var row = await RowAsync(c, tenantId, id);
        if (row is null) return null;
        var occurrences = await c.QueryAsync<OccurrenceRow>(
            "SELECT occurrence, firing, signal_count, first_seen_at, last_seen_at FROM incident_occurrences WHERE incident_id = @id ORDER BY first_seen_at, occurrence", new { id });
        var events = await c.QueryAsync<EventRow>(
            "SELECT seq, at, kind, actor, message, data FROM incident_events WHERE tenant_id = @tenantId AND incident_id = @id ORDER BY seq", new { tenantId, id });
        return new IncidentDetailResponse(
            row.ToResponse(),
            occurrences.Select(o => new IncidentOccurrenceResponse(o.Occurrence, o.Firing, o.SignalCount, o.FirstSeenAt, o.LastSeenAt)).ToList(),
            events.Select(e => new IncidentEventResponse(e.Seq, e.At, e.Kind, e.Actor, e.Message, IncidentJson.Map(e.Data))).ToList());
    }

    /// <summary>
    /// Newest first (ids are time-ordered). <c>Status</c> "active" means every status but resolved;
    /// <c>Text</c> matches part of the title, whatever the case.
    /// </summary>
    public async Task<IncidentPage> ListAsync(string tenantId, IncidentQuery q, CancellationToken ct)
    {
        var where = new List<string> { "i.tenant_id = @tenantId" };
        if (q.Status == "active") where.Add("i.resolved_at IS NULL");
        else if (q.Status is not null) where.Add("i.status = @Status");
        if (q.Severity is not null) where.Add("i.severity = @Severity");
        if (q.Source is not null) where.Add("i.source = @Source");
        if (q.Server is not null) where.Add("(i.server_id = @Server OR n.name = @Server)");
        if (q.Since is not null) where.Add("i.last_seen_at >= @Since");
        if (q.Before is not null) where.Add("i.id < @Before");
        if (q.Text is not null) where.Add(db.Dialect.Lower("i.title") + @" LIKE @pattern ESCAPE '\'");
        await using var c = await db.OpenAsync(ct);
        var rows = (await c.QueryAsync<IncidentRow>(
            IncidentRow.Select + " WHERE " + string.Join(" AND ", where) + " ORDER BY i.id DESC LIMIT @take",
            new { tenantId, q.Status, q.Severity, q.Source, q.Server, q.Since, q.Before, pattern = q.Text is null ? null : SqlDialect.ContainsPattern(q.Text), take = q.Limit + 1, firing = true })).ToList();
        var more = rows.Count > q.Limit;
        if (more) rows.RemoveAt(rows.Count - 1);
        return new IncidentPage(rows.Select(r => r.ToResponse()).ToList(), more ? rows[^1].Id : null);
    }

    /// <summary>Open (unresolved) incidents by severity, and how many servers have at least one.</summary>
    public async Task<(IReadOnlyDictionary<string, int> BySeverity, int Servers)> OpenCountsAsync(string tenantId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var bySeverity = (await c.QueryAsync<(string Severity, long Count)>(
            "SELECT severity, COUNT(*) FROM incidents WHERE tenant_id = @tenantId AND resolved_at IS NULL GROUP BY severity", new { tenantId }))
            .ToDictionary(r => r.Severity, r => (int)r.Count, StringComparer.Ordinal);
        var servers = await c.ExecuteScalarAsync<long>(
            "SELECT COUNT(DISTINCT server_id) FROM incidents WHERE tenant_id = @tenantId AND resolved_at IS NULL AND server_id IS NOT NULL", new { tenantId });
        return (bySeverity, (int)servers);
    }

    /// <summary>The incident's row as committed, outside any transaction.</summary>
    public async Task<IncidentRow?> RowAsync(string tenantId, string id, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await RowAsync(c, tenantId, id);
    }

    private static Task<IncidentRow?> RowAsync(DbConnection c, string tenantId, string id) =>
        c.QuerySingleOrDefaultAsync<IncidentRow>(IncidentRow.Select + " WHERE i.tenant_id = @tenantId AND i.id = @id", new { tenantId, id, firing = true });
}
