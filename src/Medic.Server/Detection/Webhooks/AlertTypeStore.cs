using System.Text.Json;
using Dapper;
using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Storage;

namespace Medic.Server.Detection.Webhooks;

internal sealed class AlertTypeRuleRow
{
    public string Name { get; set; } = "";
    public string Rule { get; set; } = "{}";
    public string UpdatedBy { get; set; } = "";
    public DateTimeOffset UpdatedAt { get; set; }

    public AlertTypeRule Read() => JsonSerializer.Deserialize(Rule, MedicJson.Default.AlertTypeRule)!;

    public AlertTypeRuleResponse ToResponse() => new(Name, Read(), false, UpdatedBy, UpdatedAt);
}

/// <summary>The tenant's alert classification rules (<see cref="AlertClassifier"/>), one per name; every change audited with it.</summary>
internal sealed class AlertTypeStore(Database db, AuditLog audit, TimeProvider time)
{
    public const int MaxPerTenant = 100;

    public async Task<IReadOnlyList<AlertTypeRuleRow>> ListAsync(string tenantId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<AlertTypeRuleRow>(
            "SELECT name, rule, updated_by, updated_at FROM alert_type_rules WHERE tenant_id = @tenantId ORDER BY name", new { tenantId })).ToList();
    }

    /// <summary>The tenant's rules compiled, in the order they are tried; rules saved by an older version that no longer compile are skipped.</summary>
    public async Task<IReadOnlyList<AlertTypeMatcher>> MatchersAsync(string tenantId, CancellationToken ct)
    {
        var rows = await ListAsync(tenantId, ct);
        var matchers = new List<AlertTypeMatcher>(rows.Count);
        foreach (var row in rows)
        {
            var rule = row.Read();
            if (AlertClassifier.Validate(row.Name, rule).Count == 0) matchers.Add(new AlertTypeMatcher(row.Name, rule, false));
        }

        return matchers;
    }

    /// <summary>Creates or replaces the rule (validated by the caller); null when the tenant already has the most it may.</summary>
    public async Task<AlertTypeRuleRow?> SaveAsync(string tenantId, string name, AlertTypeRule rule, string actor, string? clientAddress, CancellationToken ct)
    {
        var row = new AlertTypeRuleRow { Name = name, Rule = JsonSerializer.Serialize(rule, MedicJson.Default.AlertTypeRule), UpdatedBy = actor, UpdatedAt = time.GetUtcNow() };
        return await db.WriteAsync(async (c, tx) =>
        {
            var count = await c.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM alert_type_rules WHERE tenant_id = @tenantId AND name <> @name", new { tenantId, name }, tx);
            if (count >= MaxPerTenant) return null;
            await c.ExecuteAsync(
                "INSERT INTO alert_type_rules (tenant_id, name, rule, updated_by, updated_at) VALUES (@tenantId, @Name, @Rule, @UpdatedBy, @UpdatedAt) " +
                "ON CONFLICT (tenant_id, name) DO UPDATE SET rule = excluded.rule, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
                new { tenantId, row.Name, row.Rule, row.UpdatedBy, row.UpdatedAt }, tx);
            await audit.AppendAsync(c, tx, new AuditRecord(tenantId, actor, "webhooks.type_rule.set", "alert_type:" + name, AuditOutcomes.Success, clientAddress,
                new Dictionary<string, string> { ["rule"] = row.Rule.Length <= 2000 ? row.Rule : row.Rule[..2000] }));
            return row;
        }, ct);
    }

    public async Task<bool> DeleteAsync(string tenantId, string name, string actor, string? clientAddress, CancellationToken ct) =>
        await db.WriteAsync(async (c, tx) =>
        {
            var deleted = await c.ExecuteAsync("DELETE FROM alert_type_rules WHERE tenant_id = @tenantId AND name = @name", new { tenantId, name }, tx);
            if (deleted > 0) await audit.AppendAsync(c, tx, new AuditRecord(tenantId, actor, "webhooks.type_rule.delete", "alert_type:" + name, AuditOutcomes.Success, clientAddress));
            return deleted > 0;
        }, ct);
}
