using Medic.Contracts;
using Medic.Server.Ai.OperatorTools;
using Medic.Server.Ai.Skills;
using Medic.Server.Audit;
using Medic.Server.Auth;
using Medic.Server.Common;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Medic.Server.Ai.Agents;

/// <summary>
/// AI agents: <c>GET /api/v1/ai/agents</c> and <c>GET /{name}</c> (viewers), <c>PUT/DELETE /{name}</c>
/// (admins; <c>?force=true</c> moves roles other agents hold). Skills are mapped with them (<see cref="SkillsApi"/>).
/// </summary>
internal static class AiAgentsApi
{
    public static IServiceCollection AddAiAgents(this IServiceCollection services)
    {
        services.AddSingleton<AiAgentStore>();
        services.AddSingleton<SkillStore>();
        services.AddSingleton<SkillLibrary>();
        return services;
    }

    public static IEndpointRouteBuilder MapAiAgents(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/ai/agents").WithTags("AI");
        group.MapGet("/", List).Requires(Permission.Read).WithSummary("The tenant's AI agents: trust, roles, prompt, skills, tools, model, patrol.");
        group.MapGet("/{name}", Get).Requires(Permission.Read).WithSummary("One AI agent.");
        group.MapPut("/{name}", Put).Requires(Permission.Administer)
            .WithSummary("Create or replace an AI agent. A role another enabled agent holds is a 409 naming it; ?force=true moves the role to this agent.");
        group.MapDelete("/{name}", Delete).Requires(Permission.Administer).WithSummary("Remove an AI agent; the stages it performed go back to the rules engine.");
        app.MapAiSkills();
        return app;
    }

    private static async Task<Ok<IReadOnlyList<AiAgentResponse>>> List(AiAgentStore store, HttpContext http, CancellationToken ct) =>
        TypedResults.Ok<IReadOnlyList<AiAgentResponse>>([.. (await store.ListAsync(http.Caller().TenantId, ct)).Select(a => a.ToResponse())]);

    private static async Task<Results<Ok<AiAgentResponse>, ProblemHttpResult>> Get(string name, AiAgentStore store, HttpContext http, CancellationToken ct) =>
        await store.GetAsync(http.Caller().TenantId, name, ct) is { } agent
            ? TypedResults.Ok(agent.ToResponse())
            : Problems.NotFound("AI agent", Clip(name), "medic ai agents list");

    private static async Task<Results<Ok<AiAgentResponse>, Created<AiAgentResponse>, ValidationProblem, ProblemHttpResult>> Put(
        string name, AiAgentRequest? request, bool? force, AiAgentStore store, SkillLibrary skills, OperatorToolStore tools, HttpContext http, CancellationToken ct)
    {
        var caller = http.Caller();
        var errors = new Validator();
        var defined = (await tools.ListAsync(caller.TenantId, ct)).Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var draft = AiAgentRules.Validate(name, request, errors, out var warnings, defined);

        // Checked even when other fields are wrong, so one problem names every field to fix.
        var named = AiAgentRules.Names(request?.Skills).Where(ResourceNames.IsValid).ToList();
        if (named.Count > 0)
        {
            var known = (await skills.ListAsync(caller.TenantId, ct)).Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
            foreach (var skill in named.Where(s => !known.Contains(s)))
            {
                errors.Add("skills", $"no skill '{skill}' exists in this tenant or the built-in library (see 'medic ai skills list'; add one with 'medic ai skills set {skill} --file F.md')");
            }
        }

        if (!errors.Ok) return errors.Problem();

        var save = await store.PutAsync(caller.TenantId, name, draft!, force == true, caller.Actor, http.ClientAddress(), ct);
        if (save.LimitReached) return Problems.Conflict($"The tenant already has {AiAgentStore.MaxPerTenant} AI agents.", "remove one with 'medic ai agents remove NAME' first");
        if (save.Saved is null)
        {
            var held = string.Join("; ", save.Conflicts.Select(c => $"role '{c.Role.ToText()}' is held by AI agent '{c.Holder}'"));
            return Problems.Conflict($"{char.ToUpperInvariant(held[0])}{held[1..]}: one enabled agent per role.",
                $"take it over with --force (PUT ?force=true; the other agent loses the role), or leave the role out, or save this agent --disabled");
        }

        http.MarkAudited();
        var response = save.Saved.ToResponse(warnings);
        return save.Created ? TypedResults.Created($"/api/v1/ai/agents/{Uri.EscapeDataString(name)}", response) : TypedResults.Ok(response);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(string name, AiAgentStore store, HttpContext http, CancellationToken ct)
    {
        var caller = http.Caller();
        if (!await store.DeleteAsync(caller.TenantId, name, caller.Actor, http.ClientAddress(), ct)) return Problems.NotFound("AI agent", Clip(name), "medic ai agents list");
        http.MarkAudited();
        return TypedResults.NoContent();
    }

    private static string Clip(string text) => text.Length <= 64 ? text : text[..63] + "…";
}
