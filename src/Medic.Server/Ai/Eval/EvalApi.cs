using System.Text.Json;
using Medic.Contracts;
using Medic.Server.Ai.Providers;
using Medic.Server.Ai.Runs;
using Medic.Server.Auth;
using Medic.Server.Common;

namespace Medic.Server.Ai.Eval;

/// <summary>
/// <c>POST /api/v1/ai/eval</c> (admins): runs the built-in evaluation set (eval/scenarios) against one of the
/// tenant's model entries and streams a line per scenario, then the report. It spends tokens on the
/// tenant's budget; nothing reaches a server. Each scenario's run is kept like any AI run (purpose
/// <c>eval</c>, <c>medic ai runs list --purpose eval</c>), its bundle hash in the audit chain.
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

    private static async Task<IResult> Run(EvalRequest? request, ChatModels models, AiBudget budget, EvalHarness harness, AiRunStore runs, HttpContext http, CancellationToken ct)
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

        return new EvalStream(harness, runs, route, chosen, request.Model ?? ChatModels.DefaultName, caller);
    }

    private sealed class EvalStream(EvalHarness harness, AiRunStore runs, ChatRoute route, IReadOnlyList<EvalScenario> scenarios, string model, Caller caller) : IResult
    {
        public async Task ExecuteAsync(HttpContext http)
        {
            var ct = http.RequestAborted;
            http.Response.ContentType = "application/x-ndjson";
            http.Response.Headers.CacheControl = "no-store";
            route.Agent = "eval";
            var index = 0;
            var options = new EvalRunOptions(caller.TenantId, model, Starting: id => route.RunId = id);
            var report = await harness.RunAllAsync(route, scenarios, options, async run =>
            {
                // A scenario's incident is made up: the kept run names none.
                run.Bundle.IncidentId = null;
                await runs.SaveAsync(caller.TenantId, caller.Actor, run.Bundle, ct);
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
