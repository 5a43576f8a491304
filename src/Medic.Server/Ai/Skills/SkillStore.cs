using Dapper;
using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Storage;

namespace Medic.Server.Ai.Skills;

internal sealed class TenantSkillRow
{
    public string Name { get; set; } = "";
    public string Markdown { get; set; } = "";
    public string CreatedBy { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public string UpdatedBy { get; set; } = "";
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>A tenant's own skills (validated by the caller), each change audited with it.</summary>
internal sealed class SkillStore(Database db, AuditLog audit, TimeProvider time)
{
    public const int MaxPerTenant = 200;

    public async Task<IReadOnlyList<TenantSkillRow>> ListAsync(string tenantId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return [.. await c.QueryAsync<TenantSkillRow>(
            "SELECT name, markdown, created_by, created_at, updated_by, updated_at FROM ai_skills WHERE tenant_id = @tenantId ORDER BY name", new { tenantId })];
    }

    /// <summary>Creates or replaces the skill; null when the tenant already has the most it may.</summary>
    public async Task<TenantSkillRow?> SaveAsync(string tenantId, string name, string markdown, string actor, string? clientAddress, CancellationToken ct) =>
        await db.WriteAsync(async (c, tx) =>
        {
            var now = time.GetUtcNow();
            var before = await c.QuerySingleOrDefaultAsync<TenantSkillRow>(
                "SELECT name, markdown, created_by, created_at, updated_by, updated_at FROM ai_skills WHERE tenant_id = @tenantId AND name = @name", new { tenantId, name }, tx);
            if (before is null && await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM ai_skills WHERE tenant_id = @tenantId", new { tenantId }, tx) >= MaxPerTenant) return null;
            var row = new TenantSkillRow
            {
                Name = name, Markdown = markdown, CreatedBy = before?.CreatedBy ?? actor, CreatedAt = before?.CreatedAt ?? now, UpdatedBy = actor, UpdatedAt = now,
            };
            await c.ExecuteAsync(
                "INSERT INTO ai_skills (tenant_id, name, markdown, created_by, created_at, updated_by, updated_at) VALUES (@tenantId, @Name, @Markdown, @CreatedBy, @CreatedAt, @UpdatedBy, @UpdatedAt) " +
                "ON CONFLICT (tenant_id, name) DO UPDATE SET markdown = excluded.markdown, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
                new { tenantId, row.Name, row.Markdown, row.CreatedBy, row.CreatedAt, row.UpdatedBy, row.UpdatedAt }, tx);
            await audit.AppendAsync(c, tx, new AuditRecord(tenantId, actor, "ai_skill.saved", "ai_skill:" + name, AuditOutcomes.Success, clientAddress,
                new Dictionary<string, string>
                {
                    ["created"] = before is null ? "true" : "false",
                    ["changed"] = before is null || before.Markdown != markdown ? "markdown" : "",
                    ["bytes"] = System.Text.Encoding.UTF8.GetByteCount(markdown).ToString(System.Globalization.CultureInfo.InvariantCulture),
                }));
            return row;
        }, ct);

    public async Task<bool> DeleteAsync(string tenantId, string name, string actor, string? clientAddress, CancellationToken ct) =>
        await db.WriteAsync(async (c, tx) =>
        {
            var deleted = await c.ExecuteAsync("DELETE FROM ai_skills WHERE tenant_id = @tenantId AND name = @name", new { tenantId, name }, tx);
            if (deleted > 0) await audit.AppendAsync(c, tx, new AuditRecord(tenantId, actor, "ai_skill.deleted", "ai_skill:" + name, AuditOutcomes.Success, clientAddress));
            return deleted > 0;
        }, ct);
}
