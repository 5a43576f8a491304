using System.Data.Common;
using System.Text.Json;
using Dapper;
using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Storage;

namespace Medic.Server.Ai.OperatorTools;

/// <summary>A tenant's operator-defined AI tools; every change is audited in the same transaction.</summary>
internal sealed class OperatorToolStore(Database db, AuditLog audit, TimeProvider time)
{
    public const int MaxPerTenant = 100;

    private const string Columns = "name, kind, definition, created_by, created_at, updated_by, updated_at";

    public async Task<IReadOnlyList<OperatorToolDefinition>> ListAsync(string tenantId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var rows = await c.QueryAsync<Row>($"SELECT {Columns} FROM ai_tools WHERE tenant_id = @tenantId ORDER BY name", new { tenantId });
        return [.. rows.Select(r => r.Read())];
    }

    public async Task<OperatorToolDefinition?> GetAsync(string tenantId, string name, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await GetAsync(c, null, tenantId, name);
    }

    /// <summary>The tenant's tools among <paramref name="names"/> (names without a tool are left out).</summary>
    public async Task<IReadOnlyList<OperatorToolDefinition>> FindAsync(string tenantId, IReadOnlyCollection<string> names, CancellationToken ct)
    {
        if (names.Count == 0) return [];
        var all = await ListAsync(tenantId, ct);
        return [.. all.Where(t => names.Contains(t.Name, StringComparer.Ordinal))];
    }

    /// <summary>Creates or replaces the tool (validated by the caller); null when the tenant already has <see cref="MaxPerTenant"/> others.</summary>
    public async Task<(OperatorToolDefinition? Saved, bool Created)> PutAsync(string tenantId, AiToolRequest template, string actor, string? clientAddress, CancellationToken ct) =>
        await db.WriteAsync(async (c, tx) =>
        {
            var name = template.Name!;
            var before = await GetAsync(c, tx, tenantId, name);
            if (before is null && await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM ai_tools WHERE tenant_id = @tenantId", new { tenantId }, tx) >= MaxPerTenant)
            {
                return ((OperatorToolDefinition?)null, false);
            }

            var now = time.GetUtcNow();
            var saved = new OperatorToolDefinition(template, before?.CreatedBy ?? actor, before?.CreatedAt ?? now, actor, now);
            await c.ExecuteAsync(
                $"INSERT INTO ai_tools (tenant_id, {Columns}) VALUES (@tenantId, @name, @kind, @definition, @createdBy, @createdAt, @updatedBy, @updatedAt) " +
                "ON CONFLICT (tenant_id, name) DO UPDATE SET kind = excluded.kind, definition = excluded.definition, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
                new
                {
                    tenantId, name, kind = saved.Kind, definition = JsonSerializer.Serialize(template, MedicJson.Default.AiToolRequest),
                    createdBy = saved.CreatedBy, createdAt = saved.CreatedAt, updatedBy = actor, updatedAt = now,
                }, tx);
            await audit.AppendAsync(c, tx, new AuditRecord(tenantId, actor, "ai_tool.saved", "ai_tool:" + name, AuditOutcomes.Success, clientAddress, Details(saved, before is null)));
            return (saved, before is null);
        }, ct);

    public async Task<bool> DeleteAsync(string tenantId, string name, string actor, string? clientAddress, CancellationToken ct) =>
        await db.WriteAsync(async (c, tx) =>
        {
            var before = await GetAsync(c, tx, tenantId, name);
            if (before is null) return false;
            await c.ExecuteAsync("DELETE FROM ai_tools WHERE tenant_id = @tenantId AND name = @name", new { tenantId, name }, tx);
            await audit.AppendAsync(c, tx, new AuditRecord(tenantId, actor, "ai_tool.deleted", "ai_tool:" + name, AuditOutcomes.Success, clientAddress,
                new Dictionary<string, string> { ["kind"] = before.Kind }));
            return true;
        }, ct);

    private static async Task<OperatorToolDefinition?> GetAsync(DbConnection c, DbTransaction? tx, string tenantId, string name) =>
        (await c.QuerySingleOrDefaultAsync<Row>($"SELECT {Columns} FROM ai_tools WHERE tenant_id = @tenantId AND name = @name", new { tenantId, name }, tx))?.Read();

    /// <summary>What an audit reader needs to see what the tool runs: the kind, the command or URL, the parameters and the limits.</summary>
    private static Dictionary<string, string> Details(OperatorToolDefinition tool, bool created)
    {
        var t = tool.Template;
        var target = tool.Kind == OperatorToolDefinition.ShellCommand ? string.Join(" ", new[] { t.Program! }.Concat(t.Args ?? [])) : $"{t.Method} {t.Url}";
        return new Dictionary<string, string>
        {
            ["created"] = created ? "true" : "false",
            ["kind"] = tool.Kind,
            ["runs"] = Texts.Truncate(target, 500),
            ["parameters"] = string.Join(",", (t.Parameters ?? []).Select(p => $"{p.Name}:{p.Type}")),
            ["timeout_seconds"] = t.TimeoutSeconds!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
    }

    private sealed class Row
    {
        public string Name { get; set; } = "";
        public string Kind { get; set; } = "";
        public string Definition { get; set; } = "{}";
        public string CreatedBy { get; set; } = "";
        public DateTimeOffset CreatedAt { get; set; }
        public string UpdatedBy { get; set; } = "";
        public DateTimeOffset UpdatedAt { get; set; }

        public OperatorToolDefinition Read() =>
            new(JsonSerializer.Deserialize(Definition, MedicJson.Default.AiToolRequest)! with { Name = Name, Kind = Kind }, CreatedBy, CreatedAt, UpdatedBy, UpdatedAt);
    }
}
