using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Auth;
using Medic.Server.Common;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Medic.Server.Ai.Skills;

/// <summary>
/// Skills: <c>GET /api/v1/ai/skills</c> lists the tenant's and the built-in ones, <c>GET /{name}</c>
/// shows one (viewers); <c>PUT/DELETE /{name}</c> change the tenant's own (admins).
/// </summary>
internal static class SkillsApi
{
    public static IEndpointRouteBuilder MapAiSkills(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/ai/skills").WithTags("AI");
        group.MapGet("/", List).Requires(Permission.Read).WithSummary("The skills AI agents may be given: the tenant's own and the built-in ones (builtin: true); a tenant skill named like a built-in one overrides it.");
        group.MapGet("/{name}", Get).Requires(Permission.Read).WithSummary("One skill with its Markdown.");
        group.MapPut("/{name}", Put).Requires(Permission.Administer).WithSummary("Create or replace a tenant skill: Markdown with a front-matter header (name, description, when).");
        group.MapDelete("/{name}", Delete).Requires(Permission.Administer).WithSummary("Remove a tenant skill (a built-in one of the same name applies again).");
        return app;
    }

    private static async Task<Ok<IReadOnlyList<AiSkillSummary>>> List(SkillLibrary skills, HttpContext http, CancellationToken ct) =>
        TypedResults.Ok<IReadOnlyList<AiSkillSummary>>([.. (await skills.ListAsync(http.Caller().TenantId, ct)).Select(s => s.ToSummary())]);

    private static async Task<Results<Ok<AiSkillResponse>, ProblemHttpResult>> Get(string name, SkillLibrary skills, HttpContext http, CancellationToken ct) =>
        await skills.FindAsync(http.Caller().TenantId, name, ct) is { } found
            ? TypedResults.Ok(new AiSkillResponse(found.Info.ToSummary(), found.Doc.Markdown))
            : Problems.NotFound("skill", Clip(name), "medic ai skills list");

    private static async Task<Results<Ok<AiSkillResponse>, ValidationProblem, ProblemHttpResult>> Put(
        string name, AiSkillRequest? request, SkillStore store, SkillLibrary skills, HttpContext http, CancellationToken ct)
    {
        var errors = new Validator();
        if (!ResourceNames.IsValid(name)) errors.Add("name", "must be 1 to 63 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit");
        var doc = SkillDocument.Parse(request?.Markdown, out var problems);
        foreach (var problem in problems) errors.Add("markdown", problem);
        if (doc is not null && doc.Name != name) errors.Add("markdown", $"the header says name: {doc.Name}, but the URL names '{Clip(name)}': make them the same");
        if (!errors.Ok) return errors.Problem();

        var caller = http.Caller();
        var row = await store.SaveAsync(caller.TenantId, name, request!.Markdown, caller.Actor, http.ClientAddress(), ct);
        if (row is null) return Problems.Conflict($"The tenant already has {SkillStore.MaxPerTenant} skills.", "remove one with 'medic ai skills remove NAME' first");
        http.MarkAudited();
        var info = new SkillInfo(name, doc!.Description, doc.When, false, SkillLibrary.BuiltIn.ContainsKey(name), SkillDocument.Tokens(doc.Section), row.UpdatedBy, row.UpdatedAt);
        return TypedResults.Ok(new AiSkillResponse(info.ToSummary(), row.Markdown));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(string name, SkillStore store, HttpContext http, CancellationToken ct)
    {
        var caller = http.Caller();
        if (await store.DeleteAsync(caller.TenantId, name, caller.Actor, http.ClientAddress(), ct))
        {
            http.MarkAudited();
            return TypedResults.NoContent();
        }

        return SkillLibrary.BuiltIn.ContainsKey(name)
            ? Problems.Of(StatusCodes.Status409Conflict, "Conflict", $"'{name}' is a built-in skill; built-in skills cannot be removed.",
                $"override it for this tenant with 'medic ai skills set {name} --file F.md', or leave it out of the agents' skills")
            : Problems.NotFound("skill", Clip(name), "medic ai skills list");
    }

    private static string Clip(string text) => text.Length <= 64 ? text : text[..63] + "…";
}
