using System.Globalization;
using System.Net.WebSockets;
using System.Text.Json;
using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Auth;
using Medic.Server.Common;
using Medic.Server.Fleet;
using Medic.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Medic.Server.Incidents;

/// <summary>Incidents of the caller's tenant: list, show, open by hand, acknowledge, resolve, and a live feed.</summary>
internal static class IncidentsApi
{
    public static IServiceCollection AddIncidents(this IServiceCollection services)
    {
        services.AddSingleton<IncidentFeed>();
        services.AddSingleton(_ => IncidentPolicy.Default);
        services.AddSingleton<IncidentWrites>();
        services.AddSingleton<IncidentQueries>();
        services.AddSingleton<IncidentActions>();
        services.AddSingleton<PipelineIncidents>();
        services.AddSingleton<IIncidentIngest, IncidentIngest>();
        services.AddSingleton<IncidentMetrics>();
        services.AddSingleton<IScrapeReading>(sp => sp.GetRequiredService<IncidentMetrics>());
        return services;
    }

    public static IEndpointRouteBuilder MapIncidents(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/incidents").WithTags("Incidents");
        group.MapGet("/", List).Requires(Permission.Read)
            .WithSummary("Incidents, newest first. Filters: status (a status, or active for every unresolved one), severity, server, source, since, text (part of the title); paging with before and limit.");
        group.MapGet("/{id}", Get).Requires(Permission.Read).WithSummary("One incident with its occurrences and timeline.");
        group.MapPost("/", Create).Requires(Permission.Operate).WithSummary("Open an incident by hand.");
        group.MapPost("/{id}/acknowledge", Acknowledge).Requires(Permission.Operate).WithSummary("Take the incident: recorded on its timeline and in the audit log.");
        group.MapPost("/{id}/comments", Comment).Requires(Permission.Read).WithSummary("Add a comment to the incident's timeline (anyone who can see it).");
        group.MapPost("/{id}/resolve", Resolve).Requires(Permission.Operate).WithSummary("Resolve the incident by hand, with an optional comment.");
        app.Map("/ws/incidents", Feed).Requires(Permission.Read).ExcludeFromDescription();
        return app;
    }

    private static async Task<Results<Ok<IncidentPage>, ValidationProblem>> List(HttpContext http, IncidentQueries incidents, ITenantSources tenantSources, TimeProvider time, CancellationToken ct)
    {
        var q = http.Request.Query;
        var v = new Validator();
        string? Text(string name, IReadOnlyCollection<string>? allowed = null)
        {
            var text = q[name].ToString();
            if (string.IsNullOrEmpty(text)) return null;
            v.Optional(name, text, 200);
            if (allowed is not null && !allowed.Contains(text)) v.Add(name, $"'{text}' is not one of: {string.Join(", ", allowed)}");
            return text;
        }

        var status = Text("status", [.. StateText.All<IncidentStatus>(), "active"]);
        var severity = Text("severity", [.. Severities.All]);
        var source = Text("source");
        if (source is not null && !IncidentSources.All.Contains(source) && !await tenantSources.ExistsAsync(http.Caller().TenantId, source, ct))
        {
            v.Add("source", $"'{source}' is neither a built-in source ({string.Join(", ", IncidentSources.All)}) nor one of this tenant's mapped sources");
        }

        var server = Text("server");
        var before = Text("before");
        var text = Text("text");
        DateTimeOffset? since = null;
        if (Text("since") is { } s)
        {
            if (DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)) since = at;
            else if (Durations.TryParse(s, out var ago)) since = time.GetUtcNow() - ago;
            else v.Add("since", $"'{s}' is neither a timestamp (2026-11-21T10:00:00Z) nor a duration ago (24h)");
        }

        var limit = 50;
        if (Text("limit") is { } l && !(int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out limit) && limit is >= 1 and <= 500))
        {
            v.Add("limit", "must be a whole number from 1 to 500");
        }

        if (!v.Ok) return v.Problem();
        return TypedResults.Ok(await incidents.ListAsync(http.Caller().TenantId, new IncidentQuery(status, severity, server, source, since, before, limit, text), ct));
    }

    private static async Task<Results<Ok<IncidentDetailResponse>, ProblemHttpResult>> Get(string id, IncidentQueries incidents, HttpContext http, CancellationToken ct) =>
        await incidents.GetAsync(http.Caller().TenantId, id, ct) is { } i ? TypedResults.Ok(i) : Problems.NotFound("incident", id, "medic incidents list");

    private static async Task<Results<Created<IncidentResponse>, ProblemHttpResult, ValidationProblem>> Create(
        CreateIncidentRequest request, IncidentActions incidents, NodeStore nodes, HttpContext http, CancellationToken ct)
    {
        var caller = http.Caller();
        var v = new Validator().Require("title", request.Title, 500).Optional("summary", request.Summary, 10_000).Optional("type", request.Type, 100).Optional("server", request.Server, 200);
        v.Check(request.Severity is null || Severities.All.Contains(request.Severity), "severity", "use critical, warning or info");
        v.Check(request.Labels is null || request.Labels.Count <= 50, "labels", "at most 50 labels");
        foreach (var (key, value) in request.Labels ?? new Dictionary<string, string>())
        {
            v.Require("labels." + key, key, 100).Optional("labels." + key, value, 1000);
        }

        if (!v.Ok) return v.Problem();
        string? serverId = null;
        if (request.Server is not null)
        {
            if (await nodes.FindAsync(caller.TenantId, request.Server, ct) is not { } node) return Problems.NotFound("server", request.Server, "medic servers list");
            serverId = node.Id;
        }

        var created = await incidents.CreateManualAsync(caller.TenantId, caller.Actor, http.ClientAddress(), request, serverId, ct);
        http.MarkAudited();
        return TypedResults.Created($"/api/v1/incidents/{created.Id}", created);
    }

    private static async Task<Results<Ok<IncidentResponse>, ProblemHttpResult, ValidationProblem>> Acknowledge(
        string id, IncidentCommentRequest? request, IncidentActions incidents, HttpContext http, CancellationToken ct)
    {
        var v = new Validator().Optional("comment", request?.Comment, 2000);
        if (!v.Ok) return v.Problem();
        var caller = http.Caller();
        var result = await incidents.AcknowledgeAsync(caller.TenantId, id, caller.Actor, http.ClientAddress(), request?.Comment, ct);
        if (result is null) return Problems.NotFound("incident", id, "medic incidents list");
        http.MarkAudited();
        return TypedResults.Ok(result);
    }

    private static async Task<Results<Ok<IncidentResponse>, ProblemHttpResult, ValidationProblem>> Comment(
        string id, AddCommentRequest request, IncidentActions incidents, HttpContext http, CancellationToken ct)
    {
        var v = new Validator().Require("text", request.Text, 4000);
        if (!v.Ok) return v.Problem();
        var caller = http.Caller();
        var mayOperate = Permissions.Allows(caller.Role, caller.Superadmin, Permission.Operate);
        var result = await incidents.CommentAsync(caller.TenantId, id, caller.Actor, http.ClientAddress(), request.Text, mayOperate, ct);
        if (result is null) return Problems.NotFound("incident", id, "medic incidents list");
        http.MarkAudited();
        return TypedResults.Ok(result);
    }

    private static async Task<Results<Ok<IncidentResponse>, ProblemHttpResult, ValidationProblem>> Resolve(
        string id, IncidentCommentRequest? request, IncidentActions incidents, HttpContext http, CancellationToken ct)
    {
        var v = new Validator().Optional("comment", request?.Comment, 2000);
        if (!v.Ok) return v.Problem();
        var caller = http.Caller();
        var result = await incidents.ResolveManuallyAsync(caller.TenantId, id, caller.Actor, http.ClientAddress(), request?.Comment, ct);
        if (result is null) return Problems.NotFound("incident", id, "medic incidents list");
        http.MarkAudited();
        return TypedResults.Ok(result);
    }

    /// <summary>Each change to an incident of the caller's tenant, as one JSON text message, until the client goes away.</summary>
    private static async Task Feed(IncidentFeed feed, HttpContext http)
    {
        if (!http.WebSockets.IsWebSocketRequest)
        {
            await Problems.WriteAsync(http, StatusCodes.Status400BadRequest, "Not a WebSocket request", "This endpoint streams incident changes over a WebSocket.", "GET /api/v1/incidents to list them");
            return;
        }

        using var subscription = feed.Subscribe(http.Caller().TenantId);
        using var socket = await http.WebSockets.AcceptWebSocketAsync();
        var ct = http.RequestAborted;
        // Reading notices the client's close; without a reader the feed would only find out on the next send.
        var closed = Task.Run(async () =>
        {
            var buffer = new byte[1024];
            while (socket.State == WebSocketState.Open)
            {
                var r = await socket.ReceiveAsync(buffer, ct);
                if (r.MessageType == WebSocketMessageType.Close) break;
            }
        }, ct);
        try
        {
            while (!closed.IsCompleted)
            {
                var next = subscription.Reader.WaitToReadAsync(ct).AsTask();
                if (await Task.WhenAny(next, closed) == closed || !await next) break;
                while (subscription.Reader.TryRead(out var message))
                {
                    await socket.SendAsync(JsonSerializer.SerializeToUtf8Bytes(message, MedicJson.Default.IncidentFeedMessage), WebSocketMessageType.Text, true, ct);
                }
            }

            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
        }
    }
}
