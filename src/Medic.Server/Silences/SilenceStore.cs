using System.Data.Common;
using System.Text.Json;
using Dapper;
using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Common;
using Medic.Server.Storage;

namespace Medic.Server.Silences;

/// <summary>
/// The tenant's silences in <c>silences</c>: created and expired by people (audited in the same
/// transaction), matched by the incident record against each signal's labels.
/// </summary>
internal sealed class SilenceStore(Database db, AuditLog audit, TimeProvider time) : ISilences
{
    private const string Columns = "id, tenant_id, matchers, starts_at, ends_at, created_by, comment, created_at, expired_by";

    public async Task<SilenceMatch?> MatchAsync(DbConnection c, DbTransaction tx, string tenantId, IReadOnlyDictionary<string, string> labels, DateTimeOffset now)
    {
        var active = await c.QueryAsync<SilenceRow>(
            "SELECT " + Columns + " FROM silences WHERE tenant_id = @tenantId AND ends_at > @now AND starts_at <= @now ORDER BY id", new { tenantId, now }, tx);
        var match = active.FirstOrDefault(s => SilenceMatcherRules.Matches(s.MatcherList, labels));
        return match is null ? null : new SilenceMatch(match.Id, match.CreatedBy, match.Comment, match.EndsAt);
    }

    public async Task HoldAsync(DbConnection c, DbTransaction tx, string tenantId, string incidentId, string silenceId, string action)
    {
        // A reopening held under another silence keeps what it was first held at: people were never told of the incident.
        var held = await c.ExecuteScalarAsync<string?>("SELECT action FROM silenced_incidents WHERE incident_id = @incidentId", new { incidentId }, tx);
        if (held is not null) return;
        await c.ExecuteAsync("INSERT INTO silenced_incidents (incident_id, tenant_id, silence_id, action) VALUES (@incidentId, @tenantId, @silenceId, @action)",
            new { incidentId, tenantId, silenceId, action }, tx);
    }

    public async Task<(string SilenceId, string Action)?> ReleaseAsync(DbConnection c, DbTransaction tx, string incidentId)
    {
        var held = await c.QuerySingleOrDefaultAsync<HeldRow>("SELECT silence_id, action FROM silenced_incidents WHERE incident_id = @incidentId", new { incidentId }, tx);
        if (held is null) return null;
        await c.ExecuteAsync("DELETE FROM silenced_incidents WHERE incident_id = @incidentId", new { incidentId }, tx);
        return (held.SilenceId, held.Action);
    }

    public async Task<SilenceResponse> CreateAsync(string tenantId, IReadOnlyList<SilenceMatcher> matchers, DateTimeOffset startsAt, DateTimeOffset endsAt, string comment,
        string actor, string? clientAddress, CancellationToken ct)
    {
        var row = new SilenceRow
        {
            Id = Ids.New("sil"), TenantId = tenantId, Matchers = JsonSerializer.Serialize(matchers.ToList(), SilenceJson.Default.ListSilenceMatcher),
            StartsAt = startsAt, EndsAt = endsAt, CreatedBy = actor, Comment = comment, CreatedAt = time.GetUtcNow(),
        };
        await db.WriteAsync(async (c, tx) =>
        {
            await c.ExecuteAsync(
                "INSERT INTO silences (" + Columns + ") VALUES (@Id, @TenantId, @Matchers, @StartsAt, @EndsAt, @CreatedBy, @Comment, @CreatedAt, NULL)", row, tx);
            await audit.AppendAsync(c, tx, new AuditRecord(tenantId, actor, "silence.create", "silence:" + row.Id, AuditOutcomes.Success, clientAddress, new Dictionary<string, string>
            {
                ["matchers"] = Describe(matchers),
                ["starts_at"] = AuditChain.FormatTime(startsAt),
                ["ends_at"] = AuditChain.FormatTime(endsAt),
                ["comment"] = comment.Length <= 500 ? comment : comment[..500] + "…",
            }));
        }, ct);
        return row.ToResponse(time.GetUtcNow());
    }

    /// <summary>Ends the silence now. Null when there is no such silence; the refusal when it already ended.</summary>
    public async Task<(SilenceResponse? Silence, string? Refusal)> ExpireAsync(string tenantId, string id, string actor, string? clientAddress, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        return await db.WriteAsync<(SilenceResponse?, string?)>(async (c, tx) =>
        {
            var row = await c.QuerySingleOrDefaultAsync<SilenceRow>(
                "SELECT " + Columns + " FROM silences WHERE tenant_id = @tenantId AND id = @id" + db.Dialect.ForUpdate, new { tenantId, id }, tx);
            if (row is null) return (null, null);
            if (row.EndsAt <= now) return (row.ToResponse(now), $"silence {id} already ended at {AuditChain.FormatTime(row.EndsAt)}");
            row.EndsAt = now;
            if (row.StartsAt > now) row.StartsAt = now;
            row.ExpiredBy = actor;
            await c.ExecuteAsync("UPDATE silences SET starts_at = @StartsAt, ends_at = @EndsAt, expired_by = @ExpiredBy WHERE id = @Id", row, tx);
            await audit.AppendAsync(c, tx, new AuditRecord(tenantId, actor, "silence.expire", "silence:" + id, AuditOutcomes.Success, clientAddress,
                new Dictionary<string, string> { ["matchers"] = Describe(row.MatcherList) }));
            return (row.ToResponse(now), null);
        }, ct);
    }

    public async Task<SilenceResponse?> GetAsync(string tenantId, string id, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<SilenceRow>("SELECT " + Columns + " FROM silences WHERE tenant_id = @tenantId AND id = @id", new { tenantId, id });
        return row?.ToResponse(time.GetUtcNow());
    }

    /// <summary>Newest first; <paramref name="state"/> (pending, active or expired) filters.</summary>
    public async Task<IReadOnlyList<SilenceResponse>> ListAsync(string tenantId, SilenceState? state, int limit, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var where = state switch
        {
            SilenceState.Pending => " AND starts_at > @now AND ends_at > @now",
            SilenceState.Active => " AND starts_at <= @now AND ends_at > @now",
            SilenceState.Expired => " AND ends_at <= @now",
            null => "",
            _ => throw new ArgumentOutOfRangeException(nameof(state)),
        };
        await using var c = await db.OpenAsync(ct);
        var rows = await c.QueryAsync<SilenceRow>(
            "SELECT " + Columns + " FROM silences WHERE tenant_id = @tenantId" + where + " ORDER BY id DESC LIMIT @limit", new { tenantId, now, limit });
        return rows.Select(r => r.ToResponse(now)).ToList();
    }

    public static string Describe(IReadOnlyList<SilenceMatcher> matchers) => string.Join(", ", matchers.Select(m => $"{m.Name}{m.Op}\"{m.Value}\""));

    private sealed class HeldRow
    {
        public string SilenceId { get; set; } = "";
        public string Action { get; set; } = "";
    }

    private sealed class SilenceRow
    {
        public string Id { get; set; } = "";
        public string TenantId { get; set; } = "";
        public string Matchers { get; set; } = "[]";
        public DateTimeOffset StartsAt { get; set; }
        public DateTimeOffset EndsAt { get; set; }
        public string CreatedBy { get; set; } = "";
        public string Comment { get; set; } = "";
        public DateTimeOffset CreatedAt { get; set; }
        public string? ExpiredBy { get; set; }

        public IReadOnlyList<SilenceMatcher> MatcherList => JsonSerializer.Deserialize(Matchers, SilenceJson.Default.ListSilenceMatcher) ?? [];

        public SilenceResponse ToResponse(DateTimeOffset now) => new(Id, MatcherList, StartsAt, EndsAt, EndsAt <= now ? SilenceState.Expired : StartsAt > now ? SilenceState.Pending : SilenceState.Active, CreatedBy, Comment, CreatedAt, ExpiredBy);
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(List<SilenceMatcher>))]
internal sealed partial class SilenceJson : System.Text.Json.Serialization.JsonSerializerContext;
