using System.Data.Common;
using System.Text.Json;
using Dapper;
using Medic.Contracts;
using Medic.Contracts.Agent;
using Medic.Server.Fleet;
using Medic.Server.Storage;

namespace Medic.Server.Detection.Monitors;

internal sealed class MonitorRow
{
    public string Id { get; set; } = "";
    public string TenantId { get; set; } = "";
    public string Name { get; set; } = "";
    public string? ServerId { get; set; }
    public string? ServerName { get; set; }
    public string? Tags { get; set; }
    public string Definition { get; set; } = "{}";
    public string CreatedBy { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }

    public MonitorDefinition DefinitionValue => JsonSerializer.Deserialize(Definition, MonitorJson.Default.MonitorDefinition)!;

    public IReadOnlyDictionary<string, string>? TagMap => Tags is null ? null : Fleet.Tags.Deserialize(Tags);

    public MonitorResponse ToResponse()
    {
        var d = DefinitionValue;
        return new MonitorResponse(Id, Name, JsonSerializer.Serialize(d.Kind, MonitorJson.Default.MonitorKind).Trim('"'), ServerName, TagMap, d, CreatedBy, CreatedAt);
    }

    /// <summary>Whether this monitor applies to <paramref name="node"/>: named, or every one of its tags matches.</summary>
    public bool AppliesTo(NodeRow node) => ServerId is not null
        ? ServerId == node.Id
        : TagMap is { Count: > 0 } tags && tags.All(t => node.TagMap.TryGetValue(t.Key, out var v) && v == t.Value);
}

/// <summary>Monitors set on the control plane; every query is scoped by tenant.</summary>
internal sealed class MonitorStore(Database db)
{
    private const string Columns = "m.id, m.tenant_id, m.name, m.server_id, n.name AS server_name, m.tags, m.definition, m.created_by, m.created_at";
    private const string From = " FROM monitors m LEFT JOIN nodes n ON n.id = m.server_id AND n.tenant_id = m.tenant_id";

    public async Task<IReadOnlyList<MonitorRow>> ListAsync(string tenantId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<MonitorRow>("SELECT " + Columns + From + " WHERE m.tenant_id = @tenantId AND m.removed_at IS NULL ORDER BY m.name", new { tenantId })).ToList();
    }

    public static Task<MonitorRow?> FindAsync(DbConnection c, DbTransaction? tx, string tenantId, string idOrName) => c.QuerySingleOrDefaultAsync<MonitorRow>(
        "SELECT " + Columns + From + " WHERE m.tenant_id = @tenantId AND m.removed_at IS NULL AND (m.id = @idOrName OR m.name = @idOrName)", new { tenantId, idOrName }, tx);

    /// <summary>Whether the tenant ever had a monitor (removed ones count: their agents must be told).</summary>
    public async Task<bool> AnyEverAsync(string tenantId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM monitors WHERE tenant_id = @tenantId", new { tenantId }) > 0;
    }

    public async Task<MonitorRow?> FindAsync(string tenantId, string idOrName, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await FindAsync(c, null, tenantId, idOrName);
    }

    public static Task InsertAsync(DbConnection c, DbTransaction tx, MonitorRow m) => c.ExecuteAsync(
        "INSERT INTO monitors (id, tenant_id, name, server_id, tags, definition, created_by, created_at) VALUES (@Id, @TenantId, @Name, @ServerId, @Tags, @Definition, @CreatedBy, @CreatedAt)", m, tx);

    public static Task RemoveAsync(DbConnection c, DbTransaction tx, string tenantId, string id, DateTimeOffset at) =>
        c.ExecuteAsync("UPDATE monitors SET removed_at = @at WHERE tenant_id = @tenantId AND id = @id", new { tenantId, id, at }, tx);
}
