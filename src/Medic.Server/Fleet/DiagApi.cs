using System.Text.RegularExpressions;
using Medic.Contracts;
using Medic.Contracts.Agent;
using Medic.Server.Audit;
using Medic.Server.Auth;
using Medic.Server.Common;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Medic.Server.Fleet;

/// <summary>Runs one read-only diagnostic verb on one server through its agent.</summary>
internal static partial class DiagApi
{
    [GeneratedRegex("^[a-z][a-z0-9-]{0,40}$")]
    private static partial Regex VerbPattern();

    public static IEndpointRouteBuilder MapDiag(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/servers/{id}/diag", Run).WithTags("Fleet").Requires(Permission.Operate)
            .WithSummary("Run a curated read-only diagnostic verb on a server; the agent validates the verb and its arguments.");
        app.MapPost("/api/v1/servers/{id}/service", Service).WithTags("Fleet").Requires(Permission.Operate)
            .WithSummary("Start, stop, restart or read the status of a systemd unit on a server (the agent's policy must grant service).");
        return app;
    }

    [GeneratedRegex("^[A-Za-z0-9@._:-]{1,200}$")]
    private static partial Regex UnitPattern();

    private static async Task<Results<Ok<TaskRunResponse>, ProblemHttpResult, ValidationProblem>> Service(
        string id, ServiceRequest request, NodeStore nodes, INodeLink dispatcher, AuditLog audit, HttpContext http, CancellationToken ct)
    {
        var caller = http.Caller();
        var v = new Validator().Require("unit", request.Unit, 200).Require("action", request.Action, 20);
        if (!string.IsNullOrEmpty(request.Unit)) v.Check(UnitPattern().IsMatch(request.Unit), "unit", "a systemd unit name such as nginx or nginx.service");
        v.Check(request.Action is null or "start" or "stop" or "restart" or "status", "action", "use start, stop, restart or status");
        var timeout = request.TimeoutSeconds ?? 60;
        v.Check(timeout is >= 1 and <= 600, "timeout_seconds", "must be from 1 to 600");
        if (!v.Ok) return v.Problem();

        var node = await nodes.FindAsync(caller.TenantId, id, ct);
        if (node is null) return Problems.NotFound("server", id, "medic servers list");
        var result = await dispatcher.RunAsync(node, TaskKind.Service, [], null, new Dictionary<string, string> { ["unit"] = request.Unit, ["action"] = request.Action! }, timeout, null, ct);
        await audit.AppendAsync(new AuditRecord(caller.TenantId, caller.Actor, "server.service", "server:" + node.Id,
            result.Status == TaskRunStatus.Completed ? AuditOutcomes.Success : result.Status == TaskRunStatus.Refused ? AuditOutcomes.Denied : AuditOutcomes.Failed, http.ClientAddress(),
            new Dictionary<string, string> { ["unit"] = request.Unit, ["action"] = request.Action!, ["task"] = result.TaskId, ["status"] = result.Status.ToText(), ["reason"] = result.Reason ?? "" }), ct);
        http.MarkAudited();
        return TypedResults.Ok(result);
    }

    private static async Task<Results<Ok<TaskRunResponse>, ProblemHttpResult, ValidationProblem>> Run(
        string id, DiagRequest request, NodeStore nodes, INodeLink dispatcher, AuditLog audit, HttpContext http, CancellationToken ct)
    {
        var caller = http.Caller();
        var v = new Validator().Require("verb", request.Verb, 40);
        if (!string.IsNullOrEmpty(request.Verb)) v.Check(VerbPattern().IsMatch(request.Verb), "verb", "is a lowercase verb name such as disk or service-status");
        var args = request.Args ?? new Dictionary<string, string>();
        v.Check(args.Count <= 20 && args.All(a => a.Key.Length <= 40 && a.Value.Length <= 1000), "args", "at most 20 arguments, names up to 40 and values up to 1000 characters");
        var timeout = request.TimeoutSeconds ?? 60;
        v.Check(timeout is >= 1 and <= 600, "timeout_seconds", "must be from 1 to 600");
        if (!v.Ok) return v.Problem();

        var node = await nodes.FindAsync(caller.TenantId, id, ct);
        if (node is null) return Problems.NotFound("server", id, "medic servers list");
        if (node.IsAgentless)
        {
            return Problems.Of(StatusCodes.Status422UnprocessableEntity, "Diagnostic verbs need the agent",
                $"'{node.Name}' is an agentless server, reached over ssh; diagnostic verbs run inside the Medic agent.",
                $"run a command instead (medic exec --server {node.Name} 'df -h'), or install the agent on it");
        }

        var result = await dispatcher.RunAsync(node, TaskKind.Diag, [], request.Verb, args, timeout, null, ct);
        await audit.AppendAsync(new AuditRecord(caller.TenantId, caller.Actor, "server.diag", "server:" + node.Id,
            result.Status == TaskRunStatus.Completed ? AuditOutcomes.Success : result.Status == TaskRunStatus.Refused ? AuditOutcomes.Denied : AuditOutcomes.Failed, http.ClientAddress(),
            new Dictionary<string, string> { ["verb"] = request.Verb, ["task"] = result.TaskId, ["status"] = result.Status.ToText(), ["reason"] = result.Reason ?? "" }), ct);
        http.MarkAudited();
        return TypedResults.Ok(result);
    }
}
