using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Auth;
using Medic.Server.Common;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Medic.Server.Ai.OperatorTools;

/// <summary>
/// Operator-defined AI tools (docs/ai-tools.md): <c>GET /api/v1/ai/tools</c> and <c>GET /{name}</c>
/// (viewers), <c>PUT/DELETE /{name}</c> (admins, like every AI setting). Each change is audited.
/// </summary>
internal static class OperatorToolsApi
{
    public static IServiceCollection AddOperatorTools(this IServiceCollection services)
    {
        services.AddSingleton<OperatorToolStore>();
        services.AddSingleton<OperatorToolFactory>();
        return services;
    }

    public static IEndpointRouteBuilder MapOperatorTools(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/ai/tools").WithTags("AI");
        group.MapGet("/", List).Requires(Permission.Read).WithSummary("The tenant's operator-defined AI tools: shell_command and http_request templates with typed parameters.");
        group.MapGet("/{name}", Get).Requires(Permission.Read).WithSummary("One operator-defined AI tool.");
        group.MapPut("/{name}", Put).Requires(Permission.Administer)
            .WithSummary("Create or replace an operator-defined AI tool; an AI agent may call it only when its tool allowlist names it.");
        group.MapDelete("/{name}", Delete).Requires(Permission.Administer).WithSummary("Remove an operator-defined AI tool; agents naming it no longer get it.");
        return app;
    }

    private static async Task<Ok<IReadOnlyList<AiToolResponse>>> List(OperatorToolStore store, HttpContext http, CancellationToken ct) =>
        TypedResults.Ok<IReadOnlyList<AiToolResponse>>([.. (await store.ListAsync(http.Caller().TenantId, ct)).Select(t => t.ToResponse())]);

    private static async Task<Results<Ok<AiToolResponse>, ProblemHttpResult>> Get(string name, OperatorToolStore store, HttpContext http, CancellationToken ct) =>
        await store.GetAsync(http.Caller().TenantId, name, ct) is { } tool
            ? TypedResults.Ok(tool.ToResponse())
            : Problems.NotFound("AI tool", Clip(name), "medic ai tools list");

    private static async Task<Results<Ok<AiToolResponse>, Created<AiToolResponse>, ValidationProblem, ProblemHttpResult>> Put(
        string name, AiToolRequest? request, OperatorToolStore store, HttpContext http, CancellationToken ct)
    {
        var caller = http.Caller();
        var errors = new Validator();
        var template = OperatorToolRules.Validate(name, request, errors);
        if (!errors.Ok) return errors.Problem();

        var (saved, created) = await store.PutAsync(caller.TenantId, template!, caller.Actor, http.ClientAddress(), ct);
        if (saved is null) return Problems.Conflict($"The tenant already has {OperatorToolStore.MaxPerTenant} AI tools.", "remove one with 'medic ai tools remove NAME' first");
        http.MarkAudited();
        return created ? TypedResults.Created($"/api/v1/ai/tools/{Uri.EscapeDataString(name)}", saved.ToResponse()) : TypedResults.Ok(saved.ToResponse());
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(string name, OperatorToolStore store, HttpContext http, CancellationToken ct)
    {
        var caller = http.Caller();
        if (!await store.DeleteAsync(caller.TenantId, name, caller.Actor, http.ClientAddress(), ct)) return Problems.NotFound("AI tool", Clip(name), "medic ai tools list");
        http.MarkAudited();
        return TypedResults.NoContent();
    }

    private static string Clip(string text) => text.Length <= 64 ? text : text[..63] + "…";
}
