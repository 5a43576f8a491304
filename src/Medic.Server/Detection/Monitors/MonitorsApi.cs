using System.Text.Json;
using System.Text.RegularExpressions;
using Medic.Contracts;
using Medic.Contracts.Agent;
using Medic.Server.Audit;
using Medic.Server.Auth;
using Medic.Server.Common;
using Medic.Server.Fleet;
using Medic.Server.Gateway;
using Medic.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Medic.Server.Detection.Monitors;

/// <summary>Agent monitors set on the control plane and pushed, signed, to the agents they apply to.</summary>
internal static partial class MonitorsApi
{
    /// <summary>Pushed monitors, and what an agent's link brings: its monitors on connect, its events as incidents.</summary>
    public static IServiceCollection AddMonitors(this IServiceCollection services)
    {
        services.AddSingleton<MonitorStore>();
        services.AddSingleton<MonitorPusher>();
        services.AddSingleton<IServerTagListener>(sp => sp.GetRequiredService<MonitorPusher>());
        services.AddSingleton<IAgentLinkListener, AgentLinkListener>();
        return services;
    }

    public static IEndpointRouteBuilder MapMonitors(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/monitors").WithTags("Detection");
        group.MapGet("/", List).Requires(Permission.Read).WithSummary("Monitors set on the control plane.");
        group.MapGet("/{id}", Get).Requires(Permission.Read).WithSummary("One monitor by id or name.");
        group.MapPost("/", Create).Requires(Permission.Operate)
            .WithSummary("Set a monitor for one server or for every server with some tags; it is pushed to their agents at once (their policy decides).");
        group.MapDelete("/{id}", Remove).Requires(Permission.Operate).WithSummary("Remove a monitor; its agents are told at once.");
        return app;
    }

    private static async Task<Ok<IReadOnlyList<MonitorResponse>>> List(MonitorStore monitors, HttpContext http, CancellationToken ct) =>
        TypedResults.Ok<IReadOnlyList<MonitorResponse>>((await monitors.ListAsync(http.Caller().TenantId, ct)).Select(m => m.ToResponse()).ToList());

    private static async Task<Results<Ok<MonitorResponse>, ProblemHttpResult>> Get(string id, MonitorStore monitors, HttpContext http, CancellationToken ct) =>
        await monitors.FindAsync(http.Caller().TenantId, id, ct) is { } m ? TypedResults.Ok(m.ToResponse()) : Problems.NotFound("monitor", id, "medic monitors list");

    private static async Task<Results<Created<MonitorResponse>, ProblemHttpResult, ValidationProblem>> Create(
        CreateMonitorRequest request, NodeStore nodes, MonitorPusher pusher, Database db, AuditLog audit, TimeProvider time, HttpContext http, CancellationToken ct)
    {
        var caller = http.Caller();
        var d = request.Definition;
        var v = new Validator().Require("name", request.Name, 63).Optional("server", request.Server, 200);
        if (!string.IsNullOrEmpty(request.Name)) v.Check(ResourceNames.IsValid(request.Name), "name", "use lowercase letters, digits, '.', '_' and '-', such as shop");
        v.Check((request.Server is null) != (request.Tags is not { Count: > 0 }), "server", "name one server, or give tags (every server with all of them), not both");
        v.Check(request.Tags is null || request.Tags.Count <= 20, "tags", "at most 20 tags");
        v.Check(d is not null, "definition", "give the monitor's definition (docs/monitors.md)");
        if (d is not null) CheckDefinition(v, d);
        if (!v.Ok) return v.Problem();

        NodeRow? node = null;
        if (request.Server is not null)
        {
            node = await nodes.FindAsync(caller.TenantId, request.Server, ct);
            if (node is null) return Problems.NotFound("server", request.Server, "medic servers list");
            if (node.IsAgentless) return Problems.Of(StatusCodes.Status422UnprocessableEntity, "Agentless server", $"'{node.Name}' has no agent to run monitors.", "use a scheduled check instead: medic checks add");
        }

        var row = new MonitorRow
        {
            Id = Ids.New("mon"), TenantId = caller.TenantId, Name = request.Name, ServerId = node?.Id, ServerName = node?.Name,
            Tags = request.Tags is { Count: > 0 } t ? Tags.Serialize(t) : null,
            // A body without labels deserializes them as null (init defaults are not kept); store an empty map instead.
            Definition = JsonSerializer.Serialize(d! with { Name = request.Name, Labels = d.Labels ?? new Dictionary<string, string>() }, MonitorJson.Default.MonitorDefinition), CreatedBy = caller.Actor, CreatedAt = time.GetUtcNow(),
        };
        var conflict = await db.WriteAsync(async (c, tx) =>
        {
            if (await MonitorStore.FindAsync(c, tx, caller.TenantId, request.Name) is not null) return true;
            await MonitorStore.InsertAsync(c, tx, row);
            await audit.AppendAsync(c, tx, new AuditRecord(caller.TenantId, caller.Actor, "monitor.create", "monitor:" + row.Id, AuditOutcomes.Success, http.ClientAddress(),
                new Dictionary<string, string> { ["name"] = row.Name, ["for"] = node?.Name ?? ("tags " + row.Tags), ["definition"] = row.Definition }));
            return false;
        }, ct);
        if (conflict) return Problems.Conflict($"A monitor named '{request.Name}' already exists.", "choose another name, or remove the old one with 'medic monitors remove'");
        http.MarkAudited();
        pusher.PushTenantInBackground(caller.TenantId);
        return TypedResults.Created($"/api/v1/monitors/{row.Id}", row.ToResponse());
    }

    /// <summary>The basics every agent needs; the agent validates the rest and its policy has the last word.</summary>
    private static void CheckDefinition(Validator v, MonitorDefinition d)
    {
        switch (d.Kind)
        {
            case MonitorKind.Process:
                v.Check(d.Unit is not null || d.Match is not null || d.Pidfile is not null || d.Start is { Count: > 0 }, "definition", "a process monitor needs unit, match, pidfile or start");
                break;
            case MonitorKind.Http:
                v.Check(Uri.TryCreate(d.Url, UriKind.Absolute, out var u) && u.Scheme is "http" or "https", "definition.url", "an http:// or https:// URL");
                break;
            case MonitorKind.Tcp or MonitorKind.Tls:
                v.Check(!string.IsNullOrEmpty(d.Host) && d.Port is >= 1 and <= 65535, "definition", "host and port (1-65535)");
                break;
            case MonitorKind.Command:
                v.Check(d.Command is { Count: > 0 }, "definition.command", "the command as an argv list");
                break;
            case MonitorKind.Log or MonitorKind.FileAge:
                v.Check(!string.IsNullOrEmpty(d.Path), "definition.path", "the file to watch");
                break;
        }

        v.Check(d.IntervalSeconds is null or (>= 0.1 and <= 86400), "definition.interval_seconds", "from 0.1 to 86400");

        // Omitted fields take the contract's defaults (those of 'medic monitors add'); a value given
        // explicitly that every agent would refuse is refused here, where the caller sees why.
        v.Check(d.RecoverAfter >= 1, "definition.recover_after", "at least 1 passing check (omit it for 1)");
        v.Check(d.ForSeconds is >= 0 and <= 86400, "definition.for_seconds", "from 0 to 86400 (omit it for 0)");
        v.Check(d.TimeoutSeconds is > 0 and <= 3600, "definition.timeout_seconds", "more than 0 and at most 3600 (omit it for 5)");
        v.Check(Enum.IsDefined(d.Severity), "definition.severity", "critical, warning or info (omit it for critical)");
    }

    private static async Task<Results<Ok<MonitorResponse>, ProblemHttpResult>> Remove(
        string id, MonitorPusher pusher, Database db, AuditLog audit, TimeProvider time, HttpContext http, CancellationToken ct)
    {
        var caller = http.Caller();
        var removed = await db.WriteAsync(async (c, tx) =>
        {
            var m = await MonitorStore.FindAsync(c, tx, caller.TenantId, id);
            if (m is null) return null;
            await MonitorStore.RemoveAsync(c, tx, caller.TenantId, m.Id, time.GetUtcNow());
            await audit.AppendAsync(c, tx, new AuditRecord(caller.TenantId, caller.Actor, "monitor.remove", "monitor:" + m.Id, AuditOutcomes.Success, http.ClientAddress(),
                new Dictionary<string, string> { ["name"] = m.Name }));
            return m;
        }, ct);
        if (removed is null) return Problems.NotFound("monitor", id, "medic monitors list");
        http.MarkAudited();
        pusher.PushTenantInBackground(caller.TenantId);
        return TypedResults.Ok(removed.ToResponse());
    }
}
