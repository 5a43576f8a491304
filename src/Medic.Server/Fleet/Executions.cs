using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;
using Dapper;
using Medic.Contracts;
using Medic.Contracts.Agent;
using Medic.Server.Common;
using Medic.Server.Storage;

namespace Medic.Server.Fleet;

internal sealed class ExecutionRow
{
    public string Id { get; set; } = "";
    public string TenantId { get; set; } = "";
    public string Actor { get; set; } = "";
    public string Command { get; set; } = "";
    public string Targets { get; set; } = "[]";
    public string Strategy { get; set; } = "{}";
    public string Status { get; set; } = "running";
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
}

internal sealed class ResultRow
{
    public string TaskId { get; set; } = "";
    public string Server { get; set; } = "";
    /// <summary>The stored text of <see cref="StatusValue"/>, for Dapper: unknown text fails the read.</summary>
    public string Status { get => StatusValue.ToText(); set => StatusValue = StateText.Parse<TaskRunStatus>(value); }

    public TaskRunStatus StatusValue { get; set; }
    public int? ExitCode { get; set; }
    public long DurationMs { get; set; }
    public bool Truncated { get; set; }
    public string? Reason { get; set; }
    public string Stdout { get; set; } = "";
    public string Stderr { get; set; } = "";

    public TaskRunResponse ToResponse() => new(TaskId, Server, StatusValue, ExitCode, DurationMs, Truncated, Reason, Stdout, Stderr);
}

/// <summary>One server's result in a fleet execution, as its page lists it.</summary>
internal sealed class ServerExecutionRow
{
    public string ExecutionId { get; set; } = "";
    public string Actor { get; set; } = "";
    public string Command { get; set; } = "";
    public string Status { get; set; } = "";
    public int? ExitCode { get; set; }
    public long DurationMs { get; set; }
    public DateTimeOffset FinishedAt { get; set; }
}

/// <summary>
/// Runs a command across selected servers with a strategy, stores each server's result as it
/// arrives, and publishes it to live watchers of the execution.
/// </summary>
internal sealed partial class Executions(Database db, INodeLink dispatcher, TimeProvider time, ILogger<Executions> log)
{
    private readonly ConcurrentDictionary<string, List<Channel<TaskRunResponse>>> _watchers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Task> _running = new(StringComparer.Ordinal);

    /// <summary>The servers a selector picks, by name; all criteria must hold.</summary>
    public static IReadOnlyList<NodeRow> Select(IEnumerable<NodeRow> nodes, ExecSelector s) => nodes.Where(n =>
    {
        var tags = n.TagMap;
        return (s.Names is not { Count: > 0 } || s.Names.Contains(n.Name) || s.Names.Contains(n.Id))
            && (s.Tags is null || s.Tags.All(t => tags.TryGetValue(t.Key, out var v) && v == t.Value))
            && (s.Environment is null || tags.GetValueOrDefault(Tags.EnvironmentKey) == s.Environment)
            && (s.Groups is not { Count: > 0 } || s.Groups.All(g => Tags.Groups(tags).Contains(g)));
    }).ToList();

    public async Task<ExecutionRow> StartAsync(string tenantId, string actor, string command, IReadOnlyList<NodeRow> targets, ExecStrategy strategy, int timeoutSeconds,
        Func<System.Data.Common.DbConnection, System.Data.Common.DbTransaction, ExecutionRow, Task> audit, CancellationToken ct)
    {
        var row = new ExecutionRow
        {
            Id = Ids.New("exe"), TenantId = tenantId, Actor = actor, Command = command, CreatedAt = time.GetUtcNow(),
            Targets = JsonSerializer.Serialize(targets.Select(t => t.Name).ToList(), ExecutionJson.Default.ListString),
            Strategy = JsonSerializer.Serialize(strategy, Contracts.MedicJson.Default.ExecStrategy),
        };
        await db.WriteAsync(async (c, tx) =>
        {
            await c.ExecuteAsync(
                "INSERT INTO executions (id, tenant_id, actor, command, targets, strategy, status, created_at) VALUES (@Id, @TenantId, @Actor, @Command, @Targets, @Strategy, @Status, @CreatedAt)",
                row, tx);
            await audit(c, tx, row);
        }, ct);
        _watchers[row.Id] = [];
        _running[row.Id] = Task.Run(() => RunAsync(row, targets, strategy, timeoutSeconds), CancellationToken.None);
        return row;
    }

    private async Task RunAsync(ExecutionRow row, IReadOnlyList<NodeRow> targets, ExecStrategy strategy, int timeoutSeconds)
    {
        var status = "completed";
        try
        {
            IReadOnlyList<string> argv = ["sh", "-c", row.Command];
            async Task One(NodeRow node)
            {
                var result = await dispatcher.RunAsync(node, TaskKind.Exec, argv, null, null, timeoutSeconds, null, CancellationToken.None);
                await StoreAsync(row, result);
            }

            switch (strategy.Kind)
            {
                case "serial":
                    for (var i = 0; i < targets.Count; i++)
                    {
                        if (i > 0 && strategy.DelaySeconds is > 0) await Task.Delay(TimeSpan.FromSeconds(strategy.DelaySeconds.Value), time);
                        await One(targets[i]);
                    }

                    break;
                case "batches":
                    foreach (var batch in targets.Chunk(strategy.BatchSize ?? 10))
                    {
                        await Task.WhenAll(batch.Select(One));
                    }

                    break;
                default:
                    await Parallel.ForEachAsync(targets, new ParallelOptions { MaxDegreeOfParallelism = strategy.Max ?? 50 }, async (node, _) => await One(node));
                    break;
            }
        }
        catch (Exception ex)
        {
            status = "failed";
            LogFailed(ex, row.Id);
        }
        finally
        {
            await db.WriteAsync((c, tx) => c.ExecuteAsync("UPDATE executions SET status = @status, finished_at = @at WHERE id = @id", new { id = row.Id, status, at = time.GetUtcNow() }, tx));
            if (_watchers.TryRemove(row.Id, out var watchers))
            {
                lock (watchers)
                {
                    foreach (var w in watchers) w.Writer.TryComplete();
                }
            }

            _running.TryRemove(row.Id, out _);
        }
    }

    private async Task StoreAsync(ExecutionRow row, TaskRunResponse r)
    {
        await db.WriteAsync((c, tx) => c.ExecuteAsync(
            "INSERT INTO execution_results (execution_id, tenant_id, task_id, server, status, exit_code, duration_ms, truncated, reason, stdout, stderr, finished_at) " +
            "VALUES (@Execution, @Tenant, @TaskId, @Server, @Status, @ExitCode, @DurationMs, @Truncated, @Reason, @Stdout, @Stderr, @At)",
            new { Execution = row.Id, Tenant = row.TenantId, r.TaskId, r.Server, Status = r.Status.ToText(), r.ExitCode, r.DurationMs, r.Truncated, r.Reason, r.Stdout, r.Stderr, At = time.GetUtcNow() }, tx));
        if (_watchers.TryGetValue(row.Id, out var watchers))
        {
            lock (watchers)
            {
                foreach (var w in watchers) w.Writer.TryWrite(r);
            }
        }
    }

    /// <summary>
    /// A live feed of results still to come, or null when the execution is not running here.
    /// Subscribe before reading the stored results, then skip servers already seen.
    /// </summary>
    public ChannelReader<TaskRunResponse>? Subscribe(string id)
    {
        if (!_watchers.TryGetValue(id, out var watchers)) return null;
        var channel = Channel.CreateUnbounded<TaskRunResponse>();
        lock (watchers) watchers.Add(channel);
        return channel.Reader;
    }

    public async Task<ExecutionResponse?> GetAsync(string tenantId, string id, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<ExecutionRow>(
            "SELECT id, tenant_id, actor, command, targets, strategy, status, created_at, finished_at FROM executions WHERE tenant_id = @tenantId AND id = @id", new { tenantId, id });
        if (row is null) return null;
        var results = (await c.QueryAsync<ResultRow>(
            "SELECT task_id, server, status, exit_code, duration_ms, truncated, reason, stdout, stderr FROM execution_results WHERE tenant_id = @tenantId AND execution_id = @id ORDER BY finished_at",
            new { tenantId, id })).Select(r => r.ToResponse()).ToList();
        return new ExecutionResponse(row.Id, row.Command, row.Status, false, JsonSerializer.Deserialize(row.Targets, ExecutionJson.Default.ListString) ?? [], results, row.CreatedAt, row.FinishedAt);
    }

    /// <summary>The latest results of fleet executions on one server (by name, as results are stored), newest first.</summary>
    public async Task<IReadOnlyList<ServerExecutionRow>> ForServerAsync(string tenantId, string serverName, int limit, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<ServerExecutionRow>(
            "SELECT e.id AS execution_id, e.actor, e.command, r.status, r.exit_code, r.duration_ms, r.finished_at FROM execution_results r " +
            "JOIN executions e ON e.id = r.execution_id AND e.tenant_id = r.tenant_id WHERE r.tenant_id = @tenantId AND r.server = @serverName ORDER BY r.finished_at DESC LIMIT @limit",
            new { tenantId, serverName, limit })).ToList();
    }

    /// <summary>
    /// At start-up: executions that were running when the process stopped will never finish, so
    /// they are marked interrupted (their stored results stay). Single-replica assumption: with
    /// several replicas this must only touch the executions of the replica that died.
    /// </summary>
    public async Task MarkInterruptedAsync(CancellationToken ct) =>
        await db.WriteAsync((c, tx) => c.ExecuteAsync("UPDATE executions SET status = 'interrupted', finished_at = @at WHERE status = 'running'", new { at = time.GetUtcNow() }, tx), ct);

    /// <summary>Waits for running executions at shutdown, bounded.</summary>
    public Task DrainAsync(TimeSpan timeout) => Task.WhenAll(_running.Values).WaitAsync(timeout);
}

[System.Text.Json.Serialization.JsonSerializable(typeof(List<string>))]
internal sealed partial class ExecutionJson : System.Text.Json.Serialization.JsonSerializerContext;
