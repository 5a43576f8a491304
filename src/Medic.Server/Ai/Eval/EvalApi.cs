using System.Text.Json;
using Medic.Contracts;
using Medic.Server.Ai.Providers;
using Medic.Server.Auth;
using Medic.Server.Common;

namespace Medic.Server.Ai.Eval;

/// <summary>
/// <c>POST /api/v1/ai/eval</c> (admins): runs the built-in evaluation set (eval/scenarios) against one of the
/// tenant's model entries and streams a line per scenario, then the report. It spends tokens on the
/// tenant's budget; nothing reaches a server.
/// </summary>
internal static class EvalApi
{
    public static IEndpointRouteBuilder MapAiEval(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/ai/eval", Run).WithTags("AI").Requires(Permission.Administer)
            .WithSummary("Run the evaluation scenarios against a model entry: NDJSON lines, one per scenario (type scenario), then the report (type report). 409 without a model, 400 for unknown scenario ids.")
            .Produces(StatusCodes.Status200OK, contentType: "application/x-ndjson");
        return app;
    }

    private static async Task<IResult> Run(EvalRequest? request, ChatModels models, AiBudget budget, EvalHarness harness, HttpContext http, CancellationToken ct)
    {
        request ??= new EvalRequest();
        var caller = http.Caller();
        var all = EvalScenarioLoader.LoadEmbedded();
        var chosen = request.Only is { Count: > 0 } only ? all.Where(s => only.Contains(s.Id, StringComparer.Ordinal)).ToList() : all.ToList();
        if (request.Only is { Count: > 0 } wanted && wanted.Except(chosen.Select(s => s.Id), StringComparer.Ordinal).ToList() is { Count: > 0 } unknown)
        {
            return Problems.Invalid($"No scenario {string.Join(", ", unknown.Select(u => "'" + u + "'"))}.", "the ids are the scenario files' id fields (eval/scenarios); leave 'only' out to run them all");
        }

        if (await models.ResolveAsync(caller.TenantId, request.Model, ct) is not { } route)
        {
            return Problems.Of(StatusCodes.Status409Conflict, "No AI model is configured",
                request.Model is null ? "This tenant has no default AI model to evaluate." : $"This tenant has no AI model named '{request.Model}'.",
                "add one: medic ai models add NAME --provider openai --model ID --key-secret SECRET (docs/ai-providers.md)");
        }

        if (await budget.CheckAsync(caller.TenantId, ct) is { Exhausted: true } spent)
        {
            return Problems.Of(StatusCodes.Status409Conflict, "The AI budget is spent", $"This tenant spent {spent.SpentUsd:0.##} of its {spent.LimitUsd:0.##} USD for {spent.Month}.",
                "raise it with medic ai budget set USD, or wait for next month");
        }

        return new EvalStream(harness, route, chosen, request.Model ?? ChatModels.DefaultName, caller.TenantId);
    }

    private sealed class EvalStream(EvalHarness harness, ChatRoute route, IReadOnlyList<EvalScenario> scenarios, string model, string tenantId) : IResult
    {
        public async Task ExecuteAsync(HttpContext http)
        {
            var ct = http.RequestAborted;
            http.Response.ContentType = "application/x-ndjson";
            http.Response.Headers.CacheControl = "no-store";
            route.Agent = "eval";
            route.RunId = Ids.New("eval");
            var index = 0;
            var report = await harness.RunAllAsync(route, scenarios, new EvalRunOptions(tenantId, model), async run =>
            {
                await WriteAsync(http, new EvalEvent("scenario", run.Result, Index: ++index, Of: scenarios.Count), ct);
            }, ct);
            await WriteAsync(http, new EvalEvent("report", Report: report), ct);
        }

        private static async Task WriteAsync(HttpContext http, EvalEvent e, CancellationToken ct)
        {
            await http.Response.WriteAsync(JsonSerializer.Serialize(e, MedicJson.Default.EvalEvent) + "\n", ct);
            await http.Response.Body.FlushAsync(ct);
        }
    }
}
