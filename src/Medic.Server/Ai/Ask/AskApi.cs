using System.Text.Json;
using Medic.Contracts;
using Medic.Server.Ai.Runs;
using Medic.Server.Auth;
using Medic.Server.Common;
using Medic.Server.Fleet;
using Medic.Server.Pipeline;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.AI;

namespace Medic.Server.Ai.Ask;

/// <summary>
/// <c>POST /api/v1/ai/ask</c>: a question to an ops agent over the read-only tools, answered as a
/// stream of <see cref="AskEvent"/> lines; <c>GET /api/v1/ai/sessions[/{id}]</c>: the caller's own
/// sessions. Operators may get proposals out of it (they wait for approval); viewers only look.
/// </summary>
internal static class AskApi
{
    public static IEndpointRouteBuilder MapAsk(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/ai").WithTags("AI").Requires(Permission.Read);
        group.MapPost("/ask", Ask).WithSummary("Ask an ops agent a question; the answer streams as NDJSON lines (session, text, tool, notice, done). 409 when no model is configured.")
            .Produces(StatusCodes.Status200OK, contentType: "application/x-ndjson");
        group.MapGet("/sessions", Sessions).WithSummary("The caller's medic ask sessions, newest first.");
        group.MapGet("/sessions/{id}", Session).WithSummary("One of the caller's sessions with its turns.");
        return app;
    }

    private static async Task<IResult> Ask(AskRequest? request, AiRunner runner, AskSessionStore sessions, NodeStore nodes, HttpContext http, CancellationToken ct)
    {
        if (request is null || string.IsNullOrWhiteSpace(request.Question))
        {
            return Problems.Invalid("Ask a question.", "e.g. {\"question\": \"why is web-1 slow?\"}");
        }

        if (request.Question.Length > 8000) return Problems.Invalid("The question is longer than 8000 characters.", "shorten it");
        var caller = http.Caller();
        if (!await runner.ConfiguredAsync(caller.TenantId, request.Model, ct))
        {
            return Problems.Of(StatusCodes.Status409Conflict, "No AI model is configured",
                request.Model is null ? "This tenant has no default AI model, so there is nobody to ask." : $"This tenant has no AI model named '{request.Model}'.",
                "store a key (medic secrets set openai-key) and add a model: medic ai models add default --provider openai --model gpt-4o-mini --key-secret openai-key (docs/ai-providers.md)");
        }

        AskSessionRow? session = null;
        if (request.Session is { } id)
        {
            session = await sessions.GetAsync(caller.TenantId, caller.Actor, id, ct);
            if (session is null) return Problems.NotFound("session", id, "medic ask --list");
        }
        else if (!request.New)
        {
            session = await sessions.LatestAsync(caller.TenantId, caller.Actor, ct);
        }

        session ??= await sessions.CreateAsync(caller.TenantId, caller.Actor, request.Question, request.Model, ct);
        var servers = await nodes.ListAsync(caller.TenantId, ct);
        var history = session.Read().TakeLast(AskSessionStore.HistoryTurns * 2)
            .Select(t => new ChatMessage(t.Role == "user" ? ChatRole.User : ChatRole.Assistant, t.Text)).ToList();
        var spec = new AiRunSpec
        {
            TenantId = caller.TenantId,
            Purpose = "ask",
            Actor = "ai:ask:" + caller.Username,
            Trust = Trust.Supervised,
            Input = AiPrompts.Question(request.Question, servers),
            AgentPrompt = AiPrompts.AskPrompt,
            ReadOnly = !Permissions.Allows(caller.Role, caller.Superadmin, Permission.Operate),
            Model = request.Model ?? session.Model,
            History = history,
        };
        return new AskStream(runner, sessions, spec, session, request.Question, caller.TenantId);
    }

    private static async Task<Ok<IReadOnlyList<AskSessionSummary>>> Sessions(AskSessionStore sessions, HttpContext http, CancellationToken ct)
    {
        var caller = http.Caller();
        return TypedResults.Ok(await sessions.ListAsync(caller.TenantId, caller.Actor, ct));
    }

    private static async Task<Results<Ok<AskSessionResponse>, ProblemHttpResult>> Session(string id, AskSessionStore sessions, HttpContext http, CancellationToken ct)
    {
        var caller = http.Caller();
        return await sessions.GetAsync(caller.TenantId, caller.Actor, id, ct) is { } row
            ? TypedResults.Ok(new AskSessionResponse(row.ToSummary(), row.Read()))
            : Problems.NotFound("session", id, "medic ask --list");
    }

    /// <summary>Streams the run as NDJSON lines while it goes, then stores the turn in the session.</summary>
    private sealed class AskStream(AiRunner runner, AskSessionStore sessions, AiRunSpec spec, AskSessionRow session, string question, string tenantId) : IResult
    {
        public async Task ExecuteAsync(HttpContext http)
        {
            var ct = http.RequestAborted;
            http.Response.ContentType = "application/x-ndjson";
            http.Response.Headers.CacheControl = "no-store";
            await WriteAsync(http, new AskEvent("session", Session: session.Id), ct);
            var result = await runner.RunAsync(spec, e => new ValueTask(WriteAsync(http, new AskEvent(e.Kind, e.Kind == "tool" ? null : e.Text, e.Tool, e.Error), ct)), ct);
            if (result is null)
            {
                await WriteAsync(http, new AskEvent("done", Text: "no AI model is configured", Outcome: AiRunOutcome.NotConfigured.ToText()), ct);
                return;
            }

            var bundle = result.Bundle;
            var answer = bundle.Output ?? bundle.OutcomeReason ?? "";
            await sessions.AppendAsync(tenantId, session, result.Redact(question), answer, bundle.RunId, CancellationToken.None);
            await WriteAsync(http, new AskEvent("done", Text: bundle.Outcome == "completed" ? null : bundle.OutcomeReason, Session: session.Id, Run: bundle.RunId,
                Outcome: bundle.Outcome, Proposals: bundle.Proposals), ct);
        }

        private static async Task WriteAsync(HttpContext http, AskEvent e, CancellationToken ct)
        {
            await http.Response.WriteAsync(JsonSerializer.Serialize(e, MedicJson.Default.AskEvent) + "\n", ct);
            await http.Response.Body.FlushAsync(ct);
        }
    }
}
