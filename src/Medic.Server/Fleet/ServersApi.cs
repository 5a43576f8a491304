using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Auth;
using Medic.Server.Common;
using Medic.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Medic.Server.Fleet;

/// <summary>Managed servers: list, show, register agentless ones, tag, drain (no new tasks) and remove (revokes the credential).</summary>
internal static class ServersApi
{
    public static IServiceCollection AddFleet(this IServiceCollection services, MedicOptions options)
    {
        services.AddSingleton(_ => TaskSigningKey.LoadOrCreate(options.TaskSigningKeyPath));
        services.AddSingleton<NodeStore>();
        services.AddSingleton<SshRunner>();
        services.AddSingleton<Executions>();
        services.AddSingleton<IServerDirectory, NodeServerDirectory>();
        return services;
    }

    public static IEndpointRouteBuilder MapServers(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/servers").WithTags("Fleet");
        group.MapGet("/", List).Requires(Permission.Read).WithSummary("Servers of the tenant. Filters: status, tag (k=v, repeatable).");
        group.MapPost("/", Create).Requires(Permission.Administer)
            .WithSummary("Register an agentless server, reached through ssh with a key file of the control plane's data directory.");
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

        v.Check(status is null || StateText.TryParse<NodeStatus>(status, out _), "status", "use online or offline");
        if (!v.Ok) return v.Problem();

        var rows = await nodes.ListAsync(http.Caller().TenantId, ct);
        var selected = rows.Where(n => (status is null || n.Status == status) && wanted.All(w => n.TagMap.TryGetValue(w.Key, out var val) && val == w.Value));
        return TypedResults.Ok<IReadOnlyList<ServerResponse>>(selected.Select(n => n.ToResponse()).ToList());
    }

    private static async Task<Results<Created<ServerResponse>, ProblemHttpResult, ValidationProblem>> Create(
        CreateServerRequest request, Database db, SshRunner ssh, AuditLog audit, TimeProvider time, HttpContext http, CancellationToken ct)
    {
        var caller = http.Caller();
        var v = new Validator().Require("name", request.Name, 63).Require("address", request.Address, 300).Require("user", request.User, 32).Require("key", request.Key, 64);
        if (!string.IsNullOrEmpty(request.Name)) v.Check(EnrollmentApi.NodeNamePattern().IsMatch(request.Name), "name", "use letters, digits, '.', '_' and '-', starting with a letter or digit");
        SshAddress? address = null;
        if (!string.IsNullOrEmpty(request.Address) && (address = SshTarget.ParseAddress(request.Address, out var addressProblem)) is null) v.Add("address", addressProblem!);
        if (!string.IsNullOrEmpty(request.User)) v.Check(SshTarget.IsValidUser(request.User), "user", "is a login name: letters, digits, '_', '.', '-', starting with a letter or '_'");
        if (!string.IsNullOrEmpty(request.Key)) v.Check(SshTarget.IsValidKeyName(request.Key), "key", "names a key file in the tenant's key folder: letters, digits, '.', '_', '-', starting with a letter or digit (no path)");
        var tags = request.Tags ?? new Dictionary<string, string>();
        if (Tags.Problem(tags.ToDictionary(kv => kv.Key, kv => (string?)kv.Value)) is { } tagProblem) v.Add("tags", tagProblem);
        string? hostKey = null;
        v.Optional("host_key", request.HostKey, 16_000);
        if (request.HostKey is not null && request.AcceptNewHostKey) v.Add("host_key", "give either host_key or accept_new_host_key, not both");
        else if (request.HostKey is null && !request.AcceptNewHostKey) v.Add("host_key", "is required unless accept_new_host_key is true: pin the key from 'ssh-keyscan -t ed25519 HOST', or trust the first one seen");
        else if (request.HostKey is not null && (hostKey = SshTarget.ParseHostKey(request.HostKey, out var hostKeyProblem)) is null) v.Add("host_key", hostKeyProblem!);
        if (!v.Ok) return v.Problem();

        if (await ssh.KeyProblemAsync(caller.TenantSlug, request.Key, ct) is { } keyProblem)
        {
            return Problems.Of(StatusCodes.Status422UnprocessableEntity, "Unusable ssh key", keyProblem.Problem, keyProblem.Remedy);
        }

        var node = new NodeRow
        {
            Id = Ids.New("nod"), TenantId = caller.TenantId, Name = request.Name, Tags = Tags.Serialize(tags), StatusValue = NodeStatus.Offline, EnrolledAt = time.GetUtcNow(),
            Kind = NodeKinds.Agentless, SshAddress = address!.ToString(), SshUser = request.User, SshKey = request.Key, SshHostKey = hostKey, SshAcceptNew = request.AcceptNewHostKey,
        };
        return await db.WriteAsync<Results<Created<ServerResponse>, ProblemHttpResult, ValidationProblem>>(async (c, tx) =>
        {
            if (await NodeStore.NameTakenAsync(c, tx, caller.TenantId, node.Name))
            {
                return Problems.Conflict($"A server named '{node.Name}' already exists in this tenant.", "choose another name, or remove the old one with 'medic servers remove'");
            }

            await NodeStore.InsertAgentlessAsync(c, tx, node);
            var details = new Dictionary<string, string>
            {
                ["name"] = node.Name, ["kind"] = node.Kind, ["address"] = node.SshAddress, ["user"] = node.SshUser, ["key"] = node.SshKey, ["tags"] = node.Tags,
                ["host_key"] = hostKey is null ? "accept-new" : SshTarget.Fingerprint(hostKey),
            };
            await audit.AppendAsync(c, tx, new AuditRecord(caller.TenantId, caller.Actor, "server.add", "server:" + node.Id, AuditOutcomes.Success, http.ClientAddress(), details));
            http.MarkAudited();
            return TypedResults.Created($"/api/v1/servers/{node.Id}", node.ToResponse());
        }, ct);
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
        string id, SetTagsRequest request, Database db, AuditLog audit, IServerTagListener tagListener, HttpContext http, CancellationToken ct)
    {
        if (Tags.Problem(request.Tags) is { } problem)
        {
            var v = new Validator();
            v.Add("tags", problem);
            return v.Problem();
        }

        var caller = http.Caller();
        var result = await db.WriteAsync<Results<Ok<ServerResponse>, ProblemHttpResult, ValidationProblem>>(async (c, tx) =>
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

        // Monitors set for tags may now apply to this server, or no longer.
        if (result.Result is Ok<ServerResponse>) tagListener.TagsChanged(caller.TenantId);
        return result;
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
        string id, Database db, AuditLog audit, INodeLink connections, SshRunner ssh, TimeProvider time, HttpContext http, CancellationToken ct)
    {
        var caller = http.Caller();
        var result = await db.WriteAsync<(Results<Ok<ServerResponse>, ProblemHttpResult> Result, NodeRow? Node)>(async (c, tx) =>
        {
            var node = await NodeStore.FindAsync(c, tx, caller.TenantId, id);
            if (node is null) return (Problems.NotFound("server", id, "medic servers list"), null);
            await NodeStore.RemoveAsync(c, tx, caller.TenantId, node.Id, time.GetUtcNow());
            await audit.AppendAsync(c, tx, new AuditRecord(caller.TenantId, caller.Actor, "server.remove", "server:" + node.Id, AuditOutcomes.Success,
                http.ClientAddress(), new Dictionary<string, string> { ["name"] = node.Name }));
            node.StatusValue = NodeStatus.Offline;
            return (TypedResults.Ok(node.ToResponse()), node);
        }, ct);
        http.MarkAudited();
        if (result.Node is { IsAgentless: true } agentless)
        {
            await ssh.ForgetAsync(agentless.Id);
        }
        else if (result.Node is not null)
        {
            await connections.DisconnectAsync(result.Node.Id, "the server was removed");
        }

        return result.Result;
    }
}
