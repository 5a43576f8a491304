using System.Diagnostics;
using System.Globalization;
using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Auth;
using Medic.Server.Common;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.AI;

namespace Medic.Server.Ai.Providers;

/// <summary>
/// Model entries (<c>/api/v1/ai/models</c>: list for viewers, add, remove and test for admins), token
/// use (<c>GET /api/v1/ai/usage</c>) and the monthly budget (<c>GET/PUT /api/v1/ai/budget</c>). Keys are
/// secret names; no answer carries a key.
/// </summary>
internal static class AiModelsApi
{
    public static IEndpointRouteBuilder MapAiModels(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/ai").WithTags("AI");
        group.MapGet("/models", List).Requires(Permission.Read).WithSummary("The tenant's model entries, then the configuration file's (source: config).");
        group.MapPost("/models", Add).Requires(Permission.Administer).WithSummary("Add a model entry; entries sharing a name are used round-robin.");
        group.MapDelete("/models/{name}", Remove).Requires(Permission.Administer).WithSummary("Remove every entry of that name, or only ?id=.");
        group.MapPost("/models/{name}/test", Test).Requires(Permission.Administer).WithSummary("Send one tiny prompt through the entry (and its fallbacks): which answered, how fast, or why not.");
        group.MapGet("/usage", Usage).Requires(Permission.Read).WithSummary("Tokens and estimated cost of a month (UTC), by agent, model or run.");
        group.MapGet("/budget", Budget).Requires(Permission.Read).WithSummary("This month's spend against the tenant's monthly AI budget.");
        group.MapPut("/budget", SetBudget).Requires(Permission.Administer).WithSummary("Set the monthly AI budget in USD (null: no limit); when spent, AI runs stop and the rules engine carries on.");
        return app;
    }

    private static async Task<Ok<IReadOnlyList<AiModelResponse>>> List(AiModelStore store, HttpContext http, CancellationToken ct) =>
        TypedResults.Ok<IReadOnlyList<AiModelResponse>>([.. (await store.ListAsync(http.Caller().TenantId, ct)).Select(e => e.ToResponse())]);

    private static async Task<Results<Created<AiModelResponse>, ValidationProblem, ProblemHttpResult>> Add(AiModelRequest? request, AiModelStore store, HttpContext http, CancellationToken ct)
    {
        var errors = AiModelValidation.Validate(request);
        if (errors.Count > 0) return Problems.Validation(errors);
        var caller = http.Caller();
        var entry = await store.AddAsync(caller.TenantId, request!, caller.Actor, http.ClientAddress(), ct);
        if (entry is null) return Problems.Conflict($"The tenant already has {AiModelStore.MaxPerTenant} model entries.", "remove some with 'medic ai models remove NAME' first");
        http.MarkAudited();
        return TypedResults.Created("/api/v1/ai/models/" + Uri.EscapeDataString(entry.Name), entry.ToResponse());
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Remove(string name, string? id, AiModelStore store, HttpContext http, CancellationToken ct)
    {
        var caller = http.Caller();
        if (await store.RemoveAsync(caller.TenantId, name, id, caller.Actor, http.ClientAddress(), ct) == 0)
        {
            var configured = (await store.ListAsync(caller.TenantId, ct)).Any(e => e.FromConfig && e.Name == name);
            return configured
                ? Problems.Conflict($"The model '{name}' comes from the configuration file.", "remove it from ai.models in medic.yaml and restart")
                : Problems.NotFound("model", Clean(name), "medic ai models list");
        }

        http.MarkAudited();
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<AiModelTestResponse>, ProblemHttpResult>> Test(string name, ChatModels models, HttpContext http, CancellationToken ct)
    {
        var route = await models.ResolveAsync(http.Caller().TenantId, name, ct);
        if (route is null) return Problems.NotFound("model", Clean(name), "medic ai models list");
        route.Agent = "medic:model-test";
        var clock = Stopwatch.StartNew();
        try
        {
            var response = await route.GetResponseAsync([new ChatMessage(ChatRole.User, "Reply with the single word: ok")], new ChatOptions { MaxOutputTokens = 16 }, ct);
            var by = response.AdditionalProperties is { } p ? $"{p[ChatRoute.NameKey]} ({p[ChatRoute.ProviderKey]} {p[ChatRoute.ModelKey]} at {p[ChatRoute.EndpointKey]})" : null;
            var text = response.Text;
            return TypedResults.Ok(new AiModelTestResponse(name, true, clock.ElapsedMilliseconds, by, text.Length > 200 ? text[..200] : text, null));
        }
        catch (Exception ex) when (ex is ModelUnavailableException or ModelConfigurationException || !ct.IsCancellationRequested)
        {
            var error = ex is ModelUnavailableException or ModelConfigurationException ? ex.Message : ChatRoute.Reason(ex, route.Candidates[0]);
            return TypedResults.Ok(new AiModelTestResponse(name, false, clock.ElapsedMilliseconds, null, null, error));
        }
    }

    private static async Task<Results<Ok<AiUsageResponse>, ProblemHttpResult>> Usage(string? month, string? by, AiBudget budget, TimeProvider time, HttpContext http, CancellationToken ct)
    {
        var at = time.GetUtcNow();
        if (month is not null)
        {
            if (!DateTime.TryParseExact(month, AiBudget.MonthFormat, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var parsed))
            {
                return Problems.Invalid($"'{Clean(month)}' is not a month.", "give it as YYYY-MM, e.g. 2026-12");
            }

            at = new DateTimeOffset(parsed.Year, parsed.Month, 1, 0, 0, 0, TimeSpan.Zero);
        }

        by ??= "model";
        if (by is not ("agent" or "model" or "run")) return Problems.Invalid($"'{Clean(by)}' is not a grouping.", "use by=agent, by=model or by=run");
        return TypedResults.Ok(await budget.UsageAsync(http.Caller().TenantId, at, by, ct));
    }

    private static async Task<Ok<AiBudgetResponse>> Budget(AiBudget budget, HttpContext http, CancellationToken ct) =>
        TypedResults.Ok(ToResponse(await budget.CheckAsync(http.Caller().TenantId, ct)));

    private static async Task<Results<Ok<AiBudgetResponse>, ProblemHttpResult>> SetBudget(AiBudgetRequest? request, AiBudget budget, HttpContext http, CancellationToken ct)
    {
        if (request is null || request.MonthlyUsd is < 0 or > 10_000_000 || request.MonthlyUsd is { } v && !double.IsFinite(v))
        {
            return Problems.Invalid("Give monthly_usd: the tenant's AI budget per calendar month in USD, from 0 (no AI runs), or null for no limit.", "e.g. {\"monthly_usd\": 50}");
        }

        var caller = http.Caller();
        await budget.SetLimitAsync(caller.TenantId, request.MonthlyUsd, caller.Actor, http.ClientAddress(), ct);
        http.MarkAudited();
        return TypedResults.Ok(ToResponse(await budget.CheckAsync(caller.TenantId, ct)));
    }

    private static AiBudgetResponse ToResponse(BudgetState s) => new(s.LimitUsd, Math.Round(s.SpentUsd, 6), s.Exhausted, s.Month);

    private static string Clean(string text) => new([.. text.Take(80).Select(c => char.IsControl(c) ? '?' : c)]);
}
