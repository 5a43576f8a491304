using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Dapper;
using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Storage;

namespace Medic.Server.Detection.Webhooks;

/// <summary>One of a tenant's named documents, as <see cref="NamedDocumentStore{T}"/> keeps it.</summary>
internal sealed record NamedDocument<T>(string Name, T Value, string Json, string UpdatedBy, DateTimeOffset UpdatedAt);

/// <summary>
/// Where a <see cref="NamedDocumentStore{T}"/> keeps its documents: a table with columns
/// <c>(tenant_id, name, {Column}, updated_by, updated_at)</c> keyed by <c>(tenant_id, name)</c>;
/// changes are audited as <c>{AuditAction}.set</c> / <c>.delete</c> on <c>{AuditTarget}name</c>.
/// </summary>
internal sealed record NamedDocumentTable(string Table, string Column, int MaxPerTenant, string AuditAction, string AuditTarget);

/// <summary>A tenant's JSON documents, one per name (validated by the caller), at most a number per tenant; every change audited with it.</summary>
internal abstract class NamedDocumentStore<T>(Database db, AuditLog audit, TimeProvider time, NamedDocumentTable table, JsonTypeInfo<T> json)
{
    private sealed class Row
    {
        public string Name { get; set; } = "";
        public string Document { get; set; } = "{}";
        public string UpdatedBy { get; set; } = "";
        public DateTimeOffset UpdatedAt { get; set; }
    }

    public int Limit => table.MaxPerTenant;

    private string Select => $"SELECT name, {table.Column} AS document, updated_by, updated_at FROM {table.Table} WHERE tenant_id = @tenantId";

    private NamedDocument<T> Read(Row r) => new(r.Name, JsonSerializer.Deserialize(r.Document, json)!, r.Document, r.UpdatedBy, r.UpdatedAt);

    public async Task<IReadOnlyList<NamedDocument<T>>> ListAsync(string tenantId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return [.. (await c.QueryAsync<Row>(Select + " ORDER BY name", new { tenantId })).Select(Read)];
    }

    /// <summary>The document of that name, or null when the tenant has none.</summary>
    public async Task<NamedDocument<T>?> GetAsync(string tenantId, string name, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<Row>(Select + " AND name = @name", new { tenantId, name });
        return row is null ? null : Read(row);
    }

    /// <summary>Creates or replaces the document; null when the tenant already has the most it may.</summary>
    public async Task<NamedDocument<T>?> SaveAsync(string tenantId, string name, T value, string actor, string? clientAddress, CancellationToken ct)
    {
        var row = new Row { Name = name, Document = JsonSerializer.Serialize(value, json), UpdatedBy = actor, UpdatedAt = time.GetUtcNow() };
        return await db.WriteAsync(async (c, tx) =>
        {
            var count = await c.ExecuteScalarAsync<int>($"SELECT COUNT(*) FROM {table.Table} WHERE tenant_id = @tenantId AND name <> @name", new { tenantId, name }, tx);
            if (count >= table.MaxPerTenant) return null;
            await c.ExecuteAsync(
                $"INSERT INTO {table.Table} (tenant_id, name, {table.Column}, updated_by, updated_at) VALUES (@tenantId, @Name, @Document, @UpdatedBy, @UpdatedAt) " +
                $"ON CONFLICT (tenant_id, name) DO UPDATE SET {table.Column} = excluded.{table.Column}, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
                new { tenantId, row.Name, row.Document, row.UpdatedBy, row.UpdatedAt }, tx);
            await audit.AppendAsync(c, tx, new AuditRecord(tenantId, actor, table.AuditAction + ".set", table.AuditTarget + name, AuditOutcomes.Success, clientAddress,
                new Dictionary<string, string> { [table.Column] = row.Document.Length <= 2000 ? row.Document : row.Document[..2000] }));
            return Read(row);
        }, ct);
    }

    public async Task<bool> DeleteAsync(string tenantId, string name, string actor, string? clientAddress, CancellationToken ct) =>
        await db.WriteAsync(async (c, tx) =>
        {
            var deleted = await c.ExecuteAsync($"DELETE FROM {table.Table} WHERE tenant_id = @tenantId AND name = @name", new { tenantId, name }, tx);
            if (deleted > 0) await audit.AppendAsync(c, tx, new AuditRecord(tenantId, actor, table.AuditAction + ".delete", table.AuditTarget + name, AuditOutcomes.Success, clientAddress));
            return deleted > 0;
        }, ct);
}
