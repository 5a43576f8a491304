using Medic.Contracts;
using Medic.Server.Auth;
using Medic.Server.Common;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Medic.Server.Ai.Runs;

/// <summary><c>GET /api/v1/ai/runs</c> (filters: incident, purpose, limit) and <c>GET /api/v1/ai/runs/{id}</c>: every AI run's bundle, for anyone who can read the tenant.</summary>
internal static class AiRunsApi
{
    public static IEndpointRouteBuilder MapAiRuns(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/ai/runs").WithTags("AI").Requires(Permission.Read);
        group.MapGet("/", List).WithSummary("AI runs, newest first. Filters: incident (id), purpose (triage, diagnose, validate, review, report, ask, patrol, mcp, eval), limit (1-500, default 50).");
        group.MapGet("/{id}", Get).WithSummary("One AI run's bundle: prompt, input, each model turn and tool call with its result, output, tokens, cost, and whether it still matches the hash in the audit chain.");
        return app;
    }

    private static async Task<Results<Ok<IReadOnlyList<AiRunSummary>>, ProblemHttpResult>> List(string? incident, string? purpose, int? limit, AiRunStore store, HttpContext http, CancellationToken ct)
    {
        if (limit is < 1 or > 500) return Problems.Invalid("limit must be from 1 to 500.", "e.g. ?limit=50");
        return TypedResults.Ok(await store.ListAsync(http.Caller().TenantId, incident, purpose, limit ?? 50, ct));
    }

    private static async Task<Results<Ok<AiRunBundleResponse>, ProblemHttpResult>> Get(string id, AiRunStore store, HttpContext http, CancellationToken ct) =>
        await store.GetAsync(http.Caller().TenantId, id, ct) is { } run
            ? TypedResults.Ok(run)
            : Problems.NotFound("AI run", id, "medic ai runs list");
}
