using System.Net.WebSockets;
using System.Text.Json;
using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Auth;
using Medic.Server.Common;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Medic.Server.Fleet;

/// <summary>Fleet execution: one command on every selected server, with a strategy; results stored and streamed.</summary>
internal static class ExecApi
{
    public static IEndpointRouteBuilder MapExec(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/exec", Start).WithTags("Fleet").Requires(Permission.Operate)
            .WithSummary("Run a command on the selected servers (sh -c on each; the agent's policy must grant exec; agentless servers run it over ssh). dry_run resolves the targets only.");
        app.MapGet("/api/v1/executions/{id}", Get).WithTags("Fleet").Requires(Permission.Read).WithSummary("An execution with the results so far.");
        app.Map("/ws/executions/{id}", Stream).Requires(Permission.Read).ExcludeFromDescription();
        return app;
    }

    private static async Task<Results<Accepted<ExecutionResponse>, Ok<ExecutionResponse>, ProblemHttpResult, ValidationProblem>> Start(
        ExecRequest request, NodeStore nodes, Executions executions, AuditLog audit, HttpContext http, CancellationToken ct)
    {
        var caller = http.Caller();
        var strategy = request.Strategy ?? new ExecStrategy();
        var s = request.Selector;
        var v = new Validator().Require("command", request.Command, 10_000);
        v.Check(s.All || s.Names is { Count: > 0 } || s.Tags is { Count: > 0 } || s.Environment is not null || s.Groups is { Count: > 0 },
            "selector", "name at least one criterion (names, tags, environment, groups), or set all to true for every server");
        v.Check(strategy.Kind is "parallel" or "serial" or "batches", "strategy.kind", "use parallel, serial or batches");
        v.Check(strategy.Max is null or (>= 1 and <= 1000), "strategy.max", "must be from 1 to 1000");
        v.Check(strategy.DelaySeconds is null or (>= 0 and <= 3600), "strategy.delay_seconds", "must be from 0 to 3600");
        v.Check(strategy.BatchSize is null or (>= 1 and <= 1000), "strategy.batch_size", "must be from 1 to 1000");
        var timeout = request.TimeoutSeconds ?? 60;
        v.Check(timeout is >= 1 and <= 3600, "timeout_seconds", "must be from 1 to 3600");
        if (!v.Ok) return v.Problem();

        var targets = Executions.Select(await nodes.ListAsync(caller.TenantId, ct), s);
        var names = targets.Select(t => t.Name).ToList();
        if (request.DryRun)
        {
            return TypedResults.Ok(new ExecutionResponse("", request.Command, "dry_run", true, names, [], DateTimeOffset.UtcNow, null));
        }

        if (targets.Count == 0)
        {
            return Problems.Of(StatusCodes.Status422UnprocessableEntity, "No servers selected", "The selector matches no server of this tenant.", "check it with --dry-run and 'medic servers list'");
        }

        var row = await executions.StartAsync(caller.TenantId, caller.Actor, request.Command, targets, strategy, timeout, (c, tx, r) =>
            audit.AppendAsync(c, tx, new AuditRecord(caller.TenantId, caller.Actor, "exec.start", "execution:" + r.Id, AuditOutcomes.Success, http.ClientAddress(),
                new Dictionary<string, string> { ["command"] = request.Command, ["targets"] = string.Join(",", names), ["strategy"] = strategy.Kind })), ct);
        http.MarkAudited();
        return TypedResults.Accepted($"/api/v1/executions/{row.Id}", new ExecutionResponse(row.Id, row.Command, "running", false, names, [], row.CreatedAt, null));
    }

    private static async Task<Results<Ok<ExecutionResponse>, ProblemHttpResult>> Get(string id, Executions executions, HttpContext http, CancellationToken ct) =>
        await executions.GetAsync(http.Caller().TenantId, id, ct) is { } e ? TypedResults.Ok(e) : Problems.NotFound("execution", id, "medic exec");

    /// <summary>Sends each server's result as one JSON text message (stored ones first), then closes when the execution is done.</summary>
    private static async Task Stream(string id, Executions executions, HttpContext http)
    {
        var caller = http.Caller();
        if (await executions.GetAsync(caller.TenantId, id, http.RequestAborted) is null)
        {
            await Problems.WriteAsync(http, StatusCodes.Status404NotFound, "Not found", $"No execution '{id}' exists in this tenant.", "start one with medic exec");
            return;
        }

        // Subscribe, then read what is stored, so no result falls between the two (duplicates are skipped below).
        var live = executions.Subscribe(id);
        var snapshot = (await executions.GetAsync(caller.TenantId, id, http.RequestAborted))!;

        if (!http.WebSockets.IsWebSocketRequest)
        {
            await Problems.WriteAsync(http, StatusCodes.Status400BadRequest, "Not a WebSocket request", "This endpoint streams results over a WebSocket.", "GET /api/v1/executions/{id} for the results so far");
            return;
        }

        using var socket = await http.WebSockets.AcceptWebSocketAsync();
        var sent = new HashSet<string>(StringComparer.Ordinal);
        async Task Send(TaskRunResponse r)
        {
            if (!sent.Add(r.Server)) return;
            await socket.SendAsync(JsonSerializer.SerializeToUtf8Bytes(r, MedicJson.Default.TaskRunResponse), WebSocketMessageType.Text, true, http.RequestAborted);
        }

        foreach (var r in snapshot.Results) await Send(r);
        if (live is not null)
        {
            await foreach (var r in live.ReadAllAsync(http.RequestAborted)) await Send(r);
        }

        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "execution finished", http.RequestAborted);
    }
}
