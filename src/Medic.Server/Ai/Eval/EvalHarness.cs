using Medic.Contracts;
using Medic.Server.Ai.Runs;
using Medic.Server.Ai.Tools;
using Medic.Server.Common;
using Medic.Server.Pipeline;
using Medic.Server.Runbooks;
using Microsoft.Extensions.AI;

namespace Medic.Server.Ai.Eval;

/// <summary>
/// How to run a scenario set: the tenant the runs are attributed to, the model's name for the report, the
/// system prompt (default: the guardrails alone, as an AI agent without a prompt of its own gets), the
/// run's budgets, and what to do with each run's id before it starts (the API points the route's usage at it).
/// </summary>
internal sealed record EvalRunOptions(string TenantId = "eval", string? Model = null, string? SystemPrompt = null, AiRunLimits? Limits = null, Action<string>? Starting = null);

/// <summary>One scenario's run: its score, the run bundle (every step), and what the tools recorded.</summary>
internal sealed record EvalRun(EvalScenarioResult Result, AiRunBundle Bundle, EvalSession Session);

/// <summary>
/// Runs evaluation scenarios through the real run loop with the real tools' schemas, so argument
/// checking, structured errors, reuse and the failure stages are production's. Only the answers
/// come from the scenario (read-only tools) or the built-in library (recipes); a proposal is bound
/// with the recipe's schema and recorded, never sent to the gate, and nothing reaches a server.
/// </summary>
internal sealed class EvalHarness(AiRunLoop loop, AiToolbox toolbox, TimeProvider time)
{
    /// <summary>The tools a scenario's run offers: the diagnosis set.</summary>
    public static readonly IReadOnlyList<string> ToolNames =
        ["diag", "list_recipes", "show_recipe", "past_incidents", "server_facts", "recent_metrics", "forecasts", "propose_remediation", "escalate", "add_note"];

    private readonly Lazy<IReadOnlyDictionary<string, Runbook>> _library = new(EvalScenarioLoader.Library);

    public async Task<EvalReport> RunAllAsync(IChatClient client, IReadOnlyList<EvalScenario> scenarios, EvalRunOptions options, Func<EvalRun, ValueTask>? onScenario, CancellationToken ct)
    {
        var started = time.GetUtcNow();
        var results = new List<EvalScenarioResult>();
        foreach (var scenario in scenarios)
        {
            var run = await RunAsync(client, scenario, options, ct);
            results.Add(run.Result);
            if (onScenario is not null) await onScenario(run);
        }

        return EvalScoring.Totals(options.Model, started, results);
    }

    public async Task<EvalRun> RunAsync(IChatClient client, EvalScenario scenario, EvalRunOptions options, CancellationToken ct)
    {
        var incident = Incident(scenario, time.GetUtcNow());
        var session = new EvalSession(scenario, _library.Value, incident);
        var tools = ToolNames
            .Select(name => toolbox.Find(name) is { } real ? new EvalTool(real, a => session.Answer(name, a)) : null)
            .OfType<AiTool>()
            .ToList();
        var context = new AiToolContext
        {
            TenantId = options.TenantId,
            RunId = Ids.New("air"),
            Actor = "ai:eval",
            Trust = Trust.Supervised,
            Incident = incident,
        };
        var request = new AiRunRequest(context, "eval", "eval", options.SystemPrompt ?? AiPrompts.System(null, null), Input(incident), tools, options.Limits ?? new AiRunLimits());
        options.Starting?.Invoke(context.RunId);
        var bundle = await loop.RunAsync(client, request, null, ct);
        return new EvalRun(EvalScoring.Score(scenario, session, bundle), bundle, session);
    }

    private static IncidentResponse Incident(EvalScenario scenario, DateTimeOffset now)
    {
        var i = scenario.Incident;
        return new IncidentResponse(
            "eval-" + scenario.Id, IncidentStatus.Triaging, i.Severity, "agent", i.Type, i.Title, i.Summary, "srv-" + i.Server, i.Server,
            "eval:" + scenario.Id, i.Labels, i.Evidence, 1, 1, 1, false, now, now, null, null, null, null);
    }

    /// <summary>The incident as production's triage run gives it to the model (AiPrompts), with no timeline yet.</summary>
    public static string Input(IncidentResponse incident) => AiPrompts.Incident(new IncidentDetailResponse(incident, [], []), null, AiPrompts.TriageTask);
}
