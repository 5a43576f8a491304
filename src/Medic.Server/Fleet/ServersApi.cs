using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Auth;
using Medic.Server.Gateway;
using Medic.Server.Hosting;
using Medic.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Medic.Server.Fleet;

/// <summary>Managed servers: list, show, tag, drain (no new tasks) and remove (revokes the credential).</summary>
public static class ServersApi
{
    public static IEndpointRouteBuilder MapServers(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/servers").WithTags("Fleet");
        group.MapGet("/", List).Requires(Permission.Read).WithSummary("Servers of the tenant. Filters: status, tag (k=v, repeatable).");
        group.MapGet("/{id}", Get).Requires(Permission.Read).WithSummary("One server by id or name, with facts and latest metrics.");
        group.MapGet("/{id}/metrics", Metrics).Requires(Permission.Read).WithSummary("Metrics of the last 24 h (or since ?since=), one point per minute.");
        group.MapPut("/{id}/tags", SetTags).Requires(Permission.Operate).WithSummary("Set or remove (null) tags.");
        group.MapPost("/{id}/drain", Drain).Requires(Permission.Operate).WithSummary("Stop sending new tasks to the server.");
        group.MapPost("/{id}/undrain", Undrain).Requires(Permission.Operate).WithSummary("Send tasks to the server again.");
        group.MapDelete("/{id}", Remove).Requires(Permission.Administer).WithSummary("Remove the server: its credential stops working and its agent is disconnected.");
        return app;
    }

    private static async Task<Results<Ok<IReadOnlyList<ServerResponse>>, ValidationProblem>> List(
        NodeStore nodes, HttpContext http, string? status, [Microsoft.AspNetCore.Mvc.FromQuery(Name = "tag")] string[]? tag, CancellationToken ct)
    {
        var wanted = new Dictionary<string, string>(StringComparer.Ordinal);
        var v = new Validator();
        foreach (var pair in tag ?? [])
        {
            var parts = pair.Split('=', 2);
            if (parts.Length != 2 || parts[0].Length == 0) v.Add("tag", $"'{pair}' is not key=value");
            else wanted[parts[0]] = parts[1];
        }

        v.Check(status is null or NodeStatus.Online or NodeStatus.Offline, "status", "use online or offline");
        if (!v.Ok) return v.Problem();

        var rows = await nodes.ListAsync(http.Caller().TenantId, ct);
        var selected = rows.Where(n => (status is null || n.Status == status) && wanted.All(w => n.TagMap.TryGetValue(w.Key, out var val) && val == w.Value));
        return TypedResults.Ok<IReadOnlyList<ServerResponse>>(selected.Select(n => n.ToResponse()).ToList());
    }

    private static async Task<Results<Ok<ServerResponse>, ProblemHttpResult>> Get(string id, NodeStore nodes, HttpContext http, CancellationToken ct) =>
        await nodes.FindAsync(http.Caller().TenantId, id, ct) is { } n ? TypedResults.Ok(n.ToResponse()) : Problems.NotFound("server", id, "medic servers list");

    private static async Task<Results<Ok<MetricsHistoryResponse>, ProblemHttpResult, ValidationProblem>> Metrics(
        string id, string? since, NodeStore nodes, TimeProvider time, HttpContext http, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var from = now - NodeStore.HistoryKept;
        if (since is not null)
        {
            if (Durations.TryParse(since, out var ago)) from = now - ago;
            else if (DateTimeOffset.TryParse(since, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var at)) from = at;
            else
            {
                var v = new Validator();
                v.Add("since", $"'{since}' is neither a duration ago (1h) nor a timestamp");
                return v.Problem();
            }
        }

        var node = await nodes.FindAsync(http.Caller().TenantId, id, ct);
        if (node is null) return Problems.NotFound("server", id, "medic servers list");
        return TypedResults.Ok(new MetricsHistoryResponse(node.Name, await nodes.HistoryAsync(node.TenantId, node.Id, from, ct)));
    }

    private static async Task<Results<Ok<ServerResponse>, ProblemHttpResult, ValidationProblem>> SetTags(
        string id, SetTagsRequest request, Database db, AuditLog audit, HttpContext http, CancellationToken ct)
    {
        if (Tags.Problem(request.Tags) is { } problem)
        {
            var v = new Validator();
            v.Add("tags", problem);
            return v.Problem();
        }

        var caller = http.Caller();
        return await db.WriteAsync<Results<Ok<ServerResponse>, ProblemHttpResult, ValidationProblem>>(async (c, tx) =>
        {
            var node = await NodeStore.FindAsync(c, tx, caller.TenantId, id);
            if (node is null) return Problems.NotFound("server", id, "medic servers list");
            var tags = new Dictionary<string, string>(node.TagMap);
            foreach (var (k, val) in request.Tags)
            {
                if (val is null) tags.Remove(k);
                else tags[k] = val;
            }

            node.Tags = Tags.Serialize(tags);
            await NodeStore.SetTagsAsync(c, tx, caller.TenantId, node.Id, node.Tags);
            await audit.AppendAsync(c, tx, new AuditRecord(caller.TenantId, caller.Actor, "server.tag", "server:" + node.Id, AuditOutcomes.Success,
                http.ClientAddress(), new Dictionary<string, string> { ["name"] = node.Name, ["tags"] = node.Tags }));
            http.MarkAudited();
            return TypedResults.Ok(node.ToResponse());
        }, ct);
    }

    private static Task<Results<Ok<ServerResponse>, ProblemHttpResult>> Drain(string id, Database db, AuditLog audit, HttpContext http, CancellationToken ct) =>
        SetDrained(id, true, db, audit, http, ct);

    private static Task<Results<Ok<ServerResponse>, ProblemHttpResult>> Undrain(string id, Database db, AuditLog audit, HttpContext http, CancellationToken ct) =>
        SetDrained(id, false, db, audit, http, ct);

    private static async Task<Results<Ok<ServerResponse>, ProblemHttpResult>> SetDrained(string id, bool drained, Database db, AuditLog audit, HttpContext http, CancellationToken ct)
    {
        var caller = http.Caller();
        return await db.WriteAsync<Results<Ok<ServerResponse>, ProblemHttpResult>>(async (c, tx) =>
        {
            var node = await NodeStore.FindAsync(c, tx, caller.TenantId, id);
            if (node is null) return Problems.NotFound("server", id, "medic servers list");
            await NodeStore.SetDrainedAsync(c, tx, caller.TenantId, node.Id, drained);
            await audit.AppendAsync(c, tx, new AuditRecord(caller.TenantId, caller.Actor, drained ? "server.drain" : "server.undrain", "server:" + node.Id, AuditOutcomes.Success,
                http.ClientAddress(), new Dictionary<string, string> { ["name"] = node.Name }));
            http.MarkAudited();
            node.Drained = drained;
            return TypedResults.Ok(node.ToResponse());
        }, ct);
    }

    private static async Task<Results<Ok<ServerResponse>, ProblemHttpResult>> Remove(
        string id, Database db, AuditLog audit, AgentConnections connections, TimeProvider time, HttpContext http, CancellationToken ct)
    {
        var caller = http.Caller();
        var result = await db.WriteAsync<(Results<Ok<ServerResponse>, ProblemHttpResult> Result, string? NodeId)>(async (c, tx) =>
        {
            var node = await NodeStore.FindAsync(c, tx, caller.TenantId, id);
            if (node is null) return (Problems.NotFound("server", id, "medic servers list"), null);
            await NodeStore.RemoveAsync(c, tx, caller.TenantId, node.Id, time.GetUtcNow());
            await audit.AppendAsync(c, tx, new AuditRecord(caller.TenantId, caller.Actor, "server.remove", "server:" + node.Id, AuditOutcomes.Success,
                http.ClientAddress(), new Dictionary<string, string> { ["name"] = node.Name }));
            node.Status = NodeStatus.Offline;
            return (TypedResults.Ok(node.ToResponse()), node.Id);
        }, ct);
        http.MarkAudited();
        if (result.NodeId is not null)
        {
            await connections.DisconnectAsync(result.NodeId, "the server was removed");
        }

        return result.Result;
    }
}
