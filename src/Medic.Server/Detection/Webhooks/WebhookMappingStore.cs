using System.Text.Json;
using Dapper;
using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Storage;

namespace Medic.Server.Detection.Webhooks;

internal sealed class WebhookMappingRow
{
    public string Name { get; set; } = "";
    public string Mapping { get; set; } = "{}";
    public string UpdatedBy { get; set; } = "";
    public DateTimeOffset UpdatedAt { get; set; }

    public WebhookMapping Read() => JsonSerializer.Deserialize(Mapping, MedicJson.Default.WebhookMapping)!;
}

/// <summary>The tenant's mapped sources (<see cref="MappedAdapter"/>), one per name; every change audited with it.</summary>
internal sealed class WebhookMappingStore(Database db, AuditLog audit, TimeProvider time) : Incidents.ITenantSources
{
    public const int MaxPerTenant = 50;

    internal async Task<IReadOnlyList<WebhookMappingRow>> ListAsync(string tenantId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<WebhookMappingRow>(
            "SELECT name, mapping, updated_by, updated_at FROM webhook_mappings WHERE tenant_id = @tenantId ORDER BY name", new { tenantId })).ToList();
    }

    public async Task<bool> ExistsAsync(string tenantId, string name, CancellationToken ct) => await AdapterAsync(tenantId, name, ct) is not null;

    /// <summary>The adapter for the tenant's mapped source of that name, or null when there is none.</summary>
    public async Task<WebhookAdapter?> AdapterAsync(string tenantId, string name, CancellationToken ct)
    {
        if (!MappedAdapter.IsName(name)) return null;
        await using var c = await db.OpenAsync(ct);
        var json = await c.QuerySingleOrDefaultAsync<string>("SELECT mapping FROM webhook_mappings WHERE tenant_id = @tenantId AND name = @name", new { tenantId, name });
        return json is null ? null : MappedAdapter.For(name, JsonSerializer.Deserialize(json, MedicJson.Default.WebhookMapping)!);
    }

    /// <summary>Creates or replaces the mapping (validated by the caller); false when the tenant already has the most it may.</summary>
    internal async Task<WebhookMappingRow?> SaveAsync(string tenantId, string name, WebhookMapping mapping, string actor, string? clientAddress, CancellationToken ct)
    {
        var row = new WebhookMappingRow { Name = name, Mapping = JsonSerializer.Serialize(mapping, MedicJson.Default.WebhookMapping), UpdatedBy = actor, UpdatedAt = time.GetUtcNow() };
        return await db.WriteAsync(async (c, tx) =>
        {
            var count = await c.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM webhook_mappings WHERE tenant_id = @tenantId AND name <> @name", new { tenantId, name }, tx);
            if (count >= MaxPerTenant) return null;
            await c.ExecuteAsync(
                "INSERT INTO webhook_mappings (tenant_id, name, mapping, updated_by, updated_at) VALUES (@tenantId, @Name, @Mapping, @UpdatedBy, @UpdatedAt) " +
                "ON CONFLICT (tenant_id, name) DO UPDATE SET mapping = excluded.mapping, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
                new { tenantId, row.Name, row.Mapping, row.UpdatedBy, row.UpdatedAt }, tx);
            await audit.AppendAsync(c, tx, new AuditRecord(tenantId, actor, "webhooks.mapping.set", "webhook:" + name, AuditOutcomes.Success, clientAddress,
                new Dictionary<string, string> { ["mapping"] = row.Mapping.Length <= 2000 ? row.Mapping : row.Mapping[..2000] }));
            return row;
        }, ct);
    }

    internal async Task<bool> DeleteAsync(string tenantId, string name, string actor, string? clientAddress, CancellationToken ct) =>
        await db.WriteAsync(async (c, tx) =>
        {
            var deleted = await c.ExecuteAsync("DELETE FROM webhook_mappings WHERE tenant_id = @tenantId AND name = @name", new { tenantId, name }, tx);
            if (deleted > 0) await audit.AppendAsync(c, tx, new AuditRecord(tenantId, actor, "webhooks.mapping.delete", "webhook:" + name, AuditOutcomes.Success, clientAddress));
            return deleted > 0;
        }, ct);
}
