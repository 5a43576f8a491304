using Dapper;
using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Storage;

namespace Medic.Server.Secrets;

/// <summary>
/// A tenant's named secrets: values sealed with the master key (<see cref="SecretBox"/>, bound to
/// tenant and name), listed by name and metadata only. Only server-side code reads a value back
/// (<see cref="RevealAsync"/>): provider keys, runbook steps, notification channels; no API does.
/// Every change is audited with the name, never the value, and drops the tenant's cached redaction.
/// </summary>
internal sealed class SecretStore(Database db, SecretBox box, AuditLog audit, SecretChanges changes, TimeProvider time)
{
    public const int MaxPerTenant = 500;

    private const string Columns = "name, length, description, created_by, created_at, updated_by, updated_at";

    /// <summary>The associated data a value is sealed with: a value copied to another row or tenant does not open.</summary>
    public static string AssociatedData(string tenantId, string name) => $"secret/{tenantId}/{name}";

    public async Task<IReadOnlyList<SecretRow>> ListAsync(string tenantId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<SecretRow>($"SELECT {Columns} FROM secrets WHERE tenant_id = @tenantId ORDER BY name", new { tenantId })).ToList();
    }

    public async Task<SecretRow?> FindAsync(string tenantId, string name, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<SecretRow>($"SELECT {Columns} FROM secrets WHERE tenant_id = @tenantId AND name = @name", new { tenantId, name });
    }

    /// <summary>The value of the tenant's secret <paramref name="name"/>, or null when there is none (or it cannot be opened with this master key). Server-side only.</summary>
    public async Task<string?> RevealAsync(string tenantId, string name, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var sealedValue = await c.QuerySingleOrDefaultAsync<string>("SELECT sealed_value FROM secrets WHERE tenant_id = @tenantId AND name = @name", new { tenantId, name });
        return sealedValue is null ? null : box.Open(sealedValue, AssociatedData(tenantId, name));
    }

    /// <summary>Every value of the tenant that opens, by name: what <see cref="SecretRedactor"/> looks for.</summary>
    public async Task<IReadOnlyDictionary<string, string>> RevealAllAsync(string tenantId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var rows = await c.QueryAsync<(string Name, string SealedValue)>("SELECT name, sealed_value FROM secrets WHERE tenant_id = @tenantId", new { tenantId });
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, sealedValue) in rows)
        {
            if (box.Open(sealedValue, AssociatedData(tenantId, name)) is { } value) values[name] = value;
        }

        return values;
    }

    /// <summary>Creates or replaces the secret (validated by the caller): whether it was created, or null when the tenant already holds the most it may.</summary>
    public async Task<(SecretRow Row, bool Created)?> SetAsync(string tenantId, string name, string value, string? description, string actor, string? clientAddress, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var result = await db.WriteAsync<(SecretRow, bool)?>(async (c, tx) =>
        {
            var existing = await c.QuerySingleOrDefaultAsync<SecretRow>($"SELECT {Columns} FROM secrets WHERE tenant_id = @tenantId AND name = @name", new { tenantId, name }, tx);
            var row = new SecretRow
            {
                Name = name, Length = value.Length, Description = description ?? existing?.Description ?? "",
                CreatedBy = existing?.CreatedBy ?? actor, CreatedAt = existing?.CreatedAt ?? now, UpdatedBy = actor, UpdatedAt = now,
            };
            var sealedValue = box.Seal(value, AssociatedData(tenantId, name));
            if (existing is null)
            {
                var count = await c.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM secrets WHERE tenant_id = @tenantId", new { tenantId }, tx);
                if (count >= MaxPerTenant) return null;
                await c.ExecuteAsync(
                    "INSERT INTO secrets (tenant_id, name, sealed_value, length, description, created_by, created_at, updated_by, updated_at) " +
                    "VALUES (@tenantId, @Name, @sealedValue, @Length, @Description, @CreatedBy, @CreatedAt, @UpdatedBy, @UpdatedAt)",
                    new { tenantId, row.Name, sealedValue, row.Length, row.Description, row.CreatedBy, row.CreatedAt, row.UpdatedBy, row.UpdatedAt }, tx);
            }
            else
            {
                await c.ExecuteAsync(
                    "UPDATE secrets SET sealed_value = @sealedValue, length = @Length, description = @Description, updated_by = @UpdatedBy, updated_at = @UpdatedAt " +
                    "WHERE tenant_id = @tenantId AND name = @Name",
                    new { tenantId, row.Name, sealedValue, row.Length, row.Description, row.UpdatedBy, row.UpdatedAt }, tx);
            }

            await audit.AppendAsync(c, tx, new AuditRecord(tenantId, actor, "secret.set", "secret:" + name, AuditOutcomes.Success, clientAddress,
                new Dictionary<string, string> { ["name"] = name, ["created"] = existing is null ? "true" : "false" }));
            return (row, existing is null);
        }, ct);
        changes.Changed(tenantId);
        return result;
    }

    public async Task<bool> DeleteAsync(string tenantId, string name, string actor, string? clientAddress, CancellationToken ct)
    {
        var deleted = await db.WriteAsync(async (c, tx) =>
        {
            var n = await c.ExecuteAsync("DELETE FROM secrets WHERE tenant_id = @tenantId AND name = @name", new { tenantId, name }, tx);
            if (n > 0)
            {
                await audit.AppendAsync(c, tx, new AuditRecord(tenantId, actor, "secret.deleted", "secret:" + name, AuditOutcomes.Success, clientAddress,
                    new Dictionary<string, string> { ["name"] = name }));
            }

            return n > 0;
        }, ct);
        changes.Changed(tenantId);
        return deleted;
    }
}
