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

/// <summary>
/// Sends each connected agent the monitors that apply to it, as one signed task the agent's policy
/// checks: when the agent connects and whenever the tenant's monitors change. The whole set is sent
/// each time, so a missed push is repaired by the next one.
/// </summary>
internal sealed partial class MonitorPusher(MonitorStore monitors, NodeStore nodes, AgentConnections connections, TaskDispatcher dispatcher, AuditLog audit, ILogger<MonitorPusher> log) : IServerTagListener, IAsyncDisposable
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Task, byte> _pushes = new();

    /// <summary>The set for one node, as the agent receives it.</summary>
    public static MonitorSet SetFor(IEnumerable<MonitorRow> rows, NodeRow node) =>
        new(rows.Where(r => r.AppliesTo(node)).Select(r => r.DefinitionValue with { Name = r.Name }).OrderBy(d => d.Name, StringComparer.Ordinal).ToList());

    public async Task<TaskRunResponse> PushAsync(NodeRow node, CancellationToken ct)
    {
        var set = SetFor(await monitors.ListAsync(node.TenantId, ct), node);
        var json = JsonSerializer.Serialize(set, MonitorJson.Default.MonitorSet);
        var result = await dispatcher.RunAsync(node, TaskKind.Monitors, [], null, new Dictionary<string, string> { ["monitors"] = json }, 30, null, ct);
        if (result.Status != TaskRunStatus.Completed) LogPushFailed(node.Id, result.Status.ToText(), result.Reason ?? "");
        await audit.AppendAsync(new AuditRecord(node.TenantId, "system", "monitors.push", "server:" + node.Id,
            result.Status == TaskRunStatus.Completed ? AuditOutcomes.Success : result.Status == TaskRunStatus.Refused ? AuditOutcomes.Denied : AuditOutcomes.Failed, null,
            new Dictionary<string, string> { ["monitors"] = string.Join(",", set.Monitors.Select(m => m.Name)), ["status"] = result.Status.ToText(), ["reason"] = result.Reason ?? "" }), ct);
        return result;
    }

    void IServerTagListener.TagsChanged(string tenantId) => PushTenantInBackground(tenantId);

    /// <summary>Pushes to every connected agent of the tenant (after a change), in the background; results are audited.</summary>
    public void PushTenantInBackground(string tenantId) => Track(Task.Run(async () =>
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
    }));

    /// <summary>Pushes to one agent that just connected, in the background.</summary>
    public void PushOnConnect(string tenantId, string nodeId) => Track(Task.Run(async () =>
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
    }));

    /// <summary>A push runs in the background, but not past the server's life: disposing waits for the ones under way.</summary>
    private void Track(Task push)
    {
        _pushes.TryAdd(push, 0);
        _ = push.ContinueWith(done => _pushes.TryRemove(done, out _), TaskScheduler.Default);
    }

    public async ValueTask DisposeAsync() =>
        await Task.WhenAll(_pushes.Keys).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
}
