using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dapper;
using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Storage;

namespace Medic.Server.Ai.Agents;

/// <summary>A save that was refused because another enabled agent holds a role the draft claims.</summary>
internal sealed record AiRoleConflict(AiRole Role, string Holder);

/// <summary>The outcome of <see cref="AiAgentStore.PutAsync"/>: the saved agent, or the roles held by others.</summary>
internal sealed record AiAgentSave(AiAgentDefinition? Saved, IReadOnlyList<AiRoleConflict> Conflicts, bool Created, bool LimitReached = false);

/// <summary>
/// A tenant's AI agents and which enabled agent holds each role (at most one per role, kept by the
/// primary key of <c>ai_agent_roles</c>). Every change is audited in the same transaction.
/// </summary>
internal sealed class AiAgentStore(Database db, AuditLog audit, TimeProvider time)
{
    public const int MaxPerTenant = 100;

    private const string Columns = "name, trust, roles, system_prompt, skills, tools, model, patrol_seconds, enabled, created_by, created_at, updated_by, updated_at";

    public async Task<IReadOnlyList<AiAgentDefinition>> ListAsync(string tenantId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var rows = await c.QueryAsync<Row>($"SELECT {Columns} FROM ai_agents WHERE tenant_id = @tenantId ORDER BY name", new { tenantId });
        return [.. rows.Select(r => r.Read())];
    }

    public async Task<AiAgentDefinition?> GetAsync(string tenantId, string name, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await GetAsync(c, null, tenantId, name);
    }

    /// <summary>The enabled agent that holds <paramref name="role"/> in the tenant; null: the rules engine performs that stage.</summary>
    public async Task<AiAgentDefinition?> FindForRoleAsync(string tenantId, AiRole role, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<Row>(
            $"SELECT {string.Join(", ", Columns.Split(", ").Select(col => "a." + col))} FROM ai_agent_roles r JOIN ai_agents a ON a.tenant_id = r.tenant_id AND a.name = r.agent " +
            "WHERE r.tenant_id = @tenantId AND r.role = @role AND a.enabled = @enabled",
            new { tenantId, role = role.ToText(), enabled = true });
        return row?.Read();
    }

    /// <summary>
    /// Creates or replaces the agent (validated by the caller). When enabled it takes the roles it
    /// claims; a role another enabled agent holds is a conflict, unless <paramref name="force"/>
    /// moves it (the other agent loses that role, and the audit entry says so).
    /// </summary>
    public async Task<AiAgentSave> PutAsync(string tenantId, string name, AiAgentDraft draft, bool force, string actor, string? clientAddress, CancellationToken ct) =>
        await db.WriteAsync(async (c, tx) =>
        {
            var now = time.GetUtcNow();
            var before = await GetAsync(c, tx, tenantId, name);
            if (before is null && await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM ai_agents WHERE tenant_id = @tenantId", new { tenantId }, tx) >= MaxPerTenant)
            {
                return new AiAgentSave(null, [], false, LimitReached: true);
            }

            var moved = new List<AiRoleConflict>();
            if (draft.Enabled && draft.Roles.Count > 0)
            {
                var held = (await c.QueryAsync<(string Role, string Agent)>(
                    "SELECT role, agent FROM ai_agent_roles WHERE tenant_id = @tenantId AND agent <> @name", new { tenantId, name }, tx))
                    .Select(h => new AiRoleConflict(StateText.Parse<AiRole>(h.Role), h.Agent))
                    .Where(h => draft.Roles.Contains(h.Role))
                    .OrderBy(h => h.Role)
                    .ToList();
                if (held.Count > 0 && !force) return new AiAgentSave(null, held, false);
                foreach (var holder in held.GroupBy(h => h.Holder))
                {
                    await TakeRolesAsync(c, tx, tenantId, holder.Key, [.. holder.Select(h => h.Role)], actor, now);
                }

                moved = held;
            }

            var saved = new AiAgentDefinition(name, draft, before?.CreatedBy ?? actor, before?.CreatedAt ?? now, actor, now);
            await c.ExecuteAsync(
                $"INSERT INTO ai_agents (tenant_id, {Columns}) VALUES (@tenantId, @Name, @Trust, @Roles, @SystemPrompt, @Skills, @Tools, @Model, @PatrolSeconds, @Enabled, @CreatedBy, @CreatedAt, @UpdatedBy, @UpdatedAt) " +
                "ON CONFLICT (tenant_id, name) DO UPDATE SET trust = excluded.trust, roles = excluded.roles, system_prompt = excluded.system_prompt, skills = excluded.skills, " +
                "tools = excluded.tools, model = excluded.model, patrol_seconds = excluded.patrol_seconds, enabled = excluded.enabled, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
                Row.Parameters(tenantId, saved), tx);
            await c.ExecuteAsync("DELETE FROM ai_agent_roles WHERE tenant_id = @tenantId AND agent = @name", new { tenantId, name }, tx);
            if (saved.Enabled)
            {
                foreach (var role in saved.Roles)
                {
                    await c.ExecuteAsync("INSERT INTO ai_agent_roles (tenant_id, role, agent) VALUES (@tenantId, @role, @name)", new { tenantId, role = role.ToText(), name }, tx);
                }
            }

            var details = Changes(before, saved);
            if (moved.Count > 0) details["moved_roles"] = string.Join(", ", moved.Select(m => $"{m.Role.ToText()} from {m.Holder}"));
            await audit.AppendAsync(c, tx, new AuditRecord(tenantId, actor, "ai_agent.saved", "ai_agent:" + name, AuditOutcomes.Success, clientAddress, details));
            return new AiAgentSave(saved, [], before is null);
        }, ct);

    public async Task<bool> DeleteAsync(string tenantId, string name, string actor, string? clientAddress, CancellationToken ct) =>
        await db.WriteAsync(async (c, tx) =>
        {
            var before = await GetAsync(c, tx, tenantId, name);
            if (before is null) return false;
            await c.ExecuteAsync("DELETE FROM ai_agent_roles WHERE tenant_id = @tenantId AND agent = @name", new { tenantId, name }, tx);
            await c.ExecuteAsync("DELETE FROM ai_agents WHERE tenant_id = @tenantId AND name = @name", new { tenantId, name }, tx);
            await audit.AppendAsync(c, tx, new AuditRecord(tenantId, actor, "ai_agent.deleted", "ai_agent:" + name, AuditOutcomes.Success, clientAddress,
                new Dictionary<string, string> { ["trust"] = before.Trust.ToText(), ["roles"] = RoleList(before.Roles), ["enabled"] = Bool(before.Enabled) }));
            return true;
        }, ct);

    private static async Task<AiAgentDefinition?> GetAsync(DbConnection c, DbTransaction? tx, string tenantId, string name) =>
        (await c.QuerySingleOrDefaultAsync<Row>($"SELECT {Columns} FROM ai_agents WHERE tenant_id = @tenantId AND name = @name", new { tenantId, name }, tx))?.Read();

    /// <summary>Removes roles from the agent that held them, so its stored roles say what it performs.</summary>
    private static async Task TakeRolesAsync(DbConnection c, DbTransaction tx, string tenantId, string holder, IReadOnlyList<AiRole> roles, string actor, DateTimeOffset now)
    {
        var current = await GetAsync(c, tx, tenantId, holder);
        if (current is null) return;
        var left = current.Roles.Where(r => !roles.Contains(r)).ToList();
        await c.ExecuteAsync("UPDATE ai_agents SET roles = @roles, updated_by = @actor, updated_at = @now WHERE tenant_id = @tenantId AND name = @holder",
            new { roles = Row.Json(left.Select(r => r.ToText())), actor, now, tenantId, holder }, tx);
        foreach (var role in roles)
        {
            await c.ExecuteAsync("DELETE FROM ai_agent_roles WHERE tenant_id = @tenantId AND role = @role AND agent = @holder", new { tenantId, role = role.ToText(), holder }, tx);
        }
    }

    /// <summary>The audit details of a save: which fields changed (all on a create) and their new values; the prompt by size and hash, not its text.</summary>
    private static Dictionary<string, string> Changes(AiAgentDefinition? before, AiAgentDefinition after)
    {
        var fields = new (string Field, string? Before, string After)[]
        {
            ("trust", before?.Trust.ToText(), after.Trust.ToText()),
            ("roles", before is null ? null : RoleList(before.Roles), RoleList(after.Roles)),
            ("system_prompt", before is null ? null : PromptDigest(before.SystemPrompt), PromptDigest(after.SystemPrompt)),
            ("skills", before is null ? null : string.Join(",", before.Skills), string.Join(",", after.Skills)),
            ("tools", before is null ? null : string.Join(",", before.Tools), string.Join(",", after.Tools)),
            ("model", before is null ? null : before.Model ?? "", after.Model ?? ""),
            ("patrol", before is null ? null : Patrol(before.Patrol), Patrol(after.Patrol)),
            ("enabled", before is null ? null : Bool(before.Enabled), Bool(after.Enabled)),
        };
        var changed = fields.Where(f => f.Before != f.After).ToList();
        var details = new Dictionary<string, string> { ["changed"] = string.Join(",", changed.Select(f => f.Field)), ["created"] = Bool(before is null) };
        foreach (var (field, _, value) in changed) details[field] = value.Length <= 500 ? value : value[..500];
        return details;
    }

    private static string RoleList(IEnumerable<AiRole> roles) => string.Join(",", roles.Select(r => r.ToText()));

    private static string PromptDigest(string prompt) =>
        $"{Encoding.UTF8.GetByteCount(prompt)} bytes, sha256 {Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(prompt)))[..16]}";

    private static string Patrol(TimeSpan? patrol) => patrol is { } p ? Common.Durations.Format(p) : "";

    private static string Bool(bool value) => value ? "true" : "false";

    private sealed class Row
    {
        public string Name { get; set; } = "";
        public string Trust { get; set; } = "";
        public string Roles { get; set; } = "[]";
        public string SystemPrompt { get; set; } = "";
        public string Skills { get; set; } = "[]";
        public string Tools { get; set; } = "[]";
        public string? Model { get; set; }
        public long? PatrolSeconds { get; set; }
        public bool Enabled { get; set; }
        public string CreatedBy { get; set; } = "";
        public DateTimeOffset CreatedAt { get; set; }
        public string UpdatedBy { get; set; } = "";
        public DateTimeOffset UpdatedAt { get; set; }

        public AiAgentDefinition Read() => new(
            Name,
            new AiAgentDraft(StateText.Parse<AiTrust>(Trust), [.. List(Roles).Select(StateText.Parse<AiRole>)], SystemPrompt, List(Skills), List(Tools), Model,
                PatrolSeconds is { } s ? TimeSpan.FromSeconds(s) : null, Enabled),
            CreatedBy, CreatedAt, UpdatedBy, UpdatedAt);

        public static object Parameters(string tenantId, AiAgentDefinition a) => new
        {
            tenantId, a.Name, Trust = a.Trust.ToText(), Roles = Json(a.Roles.Select(r => r.ToText())), a.SystemPrompt, Skills = Json(a.Skills), Tools = Json(a.Tools),
            a.Model, PatrolSeconds = a.Patrol is { } p ? (long?)(long)p.TotalSeconds : null, a.Enabled, a.CreatedBy, a.CreatedAt, a.UpdatedBy, a.UpdatedAt,
        };

        public static string Json(IEnumerable<string> names) => JsonSerializer.Serialize(names.ToList(), AiAgentJson.Default.ListString);

        private static List<string> List(string json) => JsonSerializer.Deserialize(json, AiAgentJson.Default.ListString) ?? [];
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(List<string>))]
internal sealed partial class AiAgentJson : System.Text.Json.Serialization.JsonSerializerContext;
