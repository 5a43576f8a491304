using System.Data.Common;
using System.Text.Json;
using Dapper;
using Medic.Contracts;
using Medic.Contracts.Agent;
using Medic.Server.Audit;
using Medic.Server.Fleet;
using Medic.Server.Gateway;
using Medic.Server.Storage;

namespace Medic.Server.Detection.Monitors;

public sealed class MonitorRow
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
public sealed class MonitorStore(Database db)
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

/// <summary>
/// Sends each connected agent the monitors that apply to it, as one signed task the agent's policy
/// checks: when the agent connects and whenever the tenant's monitors change. The whole set is sent
/// each time, so a missed push is repaired by the next one.
/// </summary>
public sealed partial class MonitorPusher(MonitorStore monitors, NodeStore nodes, AgentConnections connections, TaskDispatcher dispatcher, AuditLog audit, ILogger<MonitorPusher> log)
{
    /// <summary>The set for one node, as the agent receives it.</summary>
    public static MonitorSet SetFor(IEnumerable<MonitorRow> rows, NodeRow node) =>
        new(rows.Where(r => r.AppliesTo(node)).Select(r => r.DefinitionValue with { Name = r.Name }).OrderBy(d => d.Name, StringComparer.Ordinal).ToList());

    public async Task<TaskRunResponse> PushAsync(NodeRow node, CancellationToken ct)
    {
        var set = SetFor(await monitors.ListAsync(node.TenantId, ct), node);
        var json = JsonSerializer.Serialize(set, MonitorJson.Default.MonitorSet);
        var result = await dispatcher.RunAsync(node, TaskKind.Monitors, [], null, new Dictionary<string, string> { ["monitors"] = json }, 30, null, ct);
        if (result.Status != "completed") LogPushFailed(node.Id, result.Status, result.Reason ?? "");
        await audit.AppendAsync(new AuditRecord(node.TenantId, "system", "monitors.push", "server:" + node.Id,
            result.Status == "completed" ? AuditOutcomes.Success : result.Status == "refused" ? AuditOutcomes.Denied : AuditOutcomes.Failed, null,
            new Dictionary<string, string> { ["monitors"] = string.Join(",", set.Monitors.Select(m => m.Name)), ["status"] = result.Status, ["reason"] = result.Reason ?? "" }), ct);
        return result;
    }

    /// <summary>Pushes to every connected agent of the tenant (after a change), in the background; results are audited.</summary>
    public void PushTenantInBackground(string tenantId) => _ = Task.Run(async () =>
    {
        try
        {
            foreach (var node in await nodes.ListAsync(tenantId, CancellationToken.None))
            {
                if (!node.IsAgentless && connections.TryGet(node.Id, out _)) await PushAsync(node, CancellationToken.None);
            }
        }
        catch (Exception ex)
        {
            LogPushCrashed(ex, tenantId);
        }
    });

    /// <summary>Pushes to one agent that just connected, in the background.</summary>
    public void PushOnConnect(string tenantId, string nodeId) => _ = Task.Run(async () =>
    {
        try
        {
            // A tenant that never set a monitor has nothing to send; skipping keeps connects cheap.
            if (await monitors.AnyEverAsync(tenantId, CancellationToken.None) && await nodes.FindAsync(tenantId, nodeId) is { } node) await PushAsync(node, CancellationToken.None);
        }
        catch (Exception ex)
        {
            LogPushCrashed(ex, tenantId);
        }
    });

    [LoggerMessage(Level = LogLevel.Warning, Message = "Monitors for {NodeId} not applied: {Status} {Reason}")]
    private partial void LogPushFailed(string nodeId, string status, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Pushing monitors to tenant {TenantId} failed")]
    private partial void LogPushCrashed(Exception ex, string tenantId);
}
