using Medic.Contracts;
using Medic.Server.Ai.Tools;
using Medic.Server.Runbooks;

namespace Medic.Server.Ai.Eval;

/// <summary>A propose_remediation call as the eval saw it: the recipe and parameters the model gave, and the bound values or why they did not bind.</summary>
internal sealed record EvalProposal(string Recipe, IReadOnlyDictionary<string, string> Given, IReadOnlyDictionary<string, string>? Bound, string? Error)
{
    public bool Valid => Bound is not null;

    public override string ToString() => Recipe + string.Concat((Bound ?? Given).Where(p => p.Value.Length > 0).OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $" {p.Key}={p.Value}"));
}

/// <summary>
/// One scenario's run: answers each tool the way the real one would, from the scenario's recorded
/// outputs (read-only tools), the built-in library (recipes) or by recording what the model did
/// (a proposal is checked and bound like the proposal step does, then recorded instead of gated).
/// </summary>
internal sealed class EvalSession(EvalScenario scenario, IReadOnlyDictionary<string, Runbook> library, IncidentResponse incident)
{
    public List<EvalProposal> Proposals { get; } = [];

    public List<string> Escalations { get; } = [];

    public List<string> Notes { get; } = [];

    public ToolResult Answer(string tool, ToolArguments arguments)
    {
        if (OutOfScope(arguments) is { } refusal) return refusal;
        return tool switch
        {
            "diag" => Diag(arguments),
            "list_recipes" => ListRecipes(arguments.Text("type")),
            "show_recipe" => ShowRecipe(arguments.Text("name")!),
            "propose_remediation" => Propose(arguments),
            "escalate" => Escalate(arguments.Text("reason")!),
            "add_note" => Note(arguments.Text("text")!),
            _ => Recorded(tool, arguments),
        };
    }

    /// <summary>The same scope rules as the real tools: this incident and its server only.</summary>
    private ToolResult? OutOfScope(ToolArguments arguments)
    {
        if (arguments.Text("server") is { Length: > 0 } server && server != scenario.Incident.Server && server != incident.ServerId)
        {
            return ToolResult.Error(ToolErrors.PolicyDenied, $"'{server}' is outside this incident's scope: only its server '{scenario.Incident.Server}' can be examined");
        }

        if (arguments.Text("incident") is { Length: > 0 } named && named != incident.Id)
        {
            return ToolResult.Error(ToolErrors.PolicyDenied, $"'{named}' is outside this run's scope: only incident {incident.Id} can be acted on");
        }

        return null;
    }

    private ToolResult Diag(ToolArguments arguments)
    {
        var verb = arguments.Text("verb")!;
        var args = arguments.Map("args");
        var recorded = scenario.Outputs.Where(o => o.Tool == "diag" && o.Verb == verb).ToList();
        // The exact call; else the one recording whose arguments the call repeats (it may add lines, count and the like).
        var hit = recorded.FirstOrDefault(o => EvalScenarioLoader.SameArgs(o.Args, args))
            ?? (recorded.Where(o => o.Args.All(a => args.TryGetValue(a.Key, out var v) && EvalMatch.SameValue(a.Value, v))).ToList() is [var only] ? only : null);
        if (hit is null)
        {
            return ToolResult.Ok(ToolJson.Write(new
            {
                server = scenario.Incident.Server, verb, exit_code = 1,
                output = $"no output recorded for {verb}{string.Concat(args.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => $" {a.Key}={a.Value}"))} in this evaluation scenario",
            }));
        }

        return ToolResult.Ok(ToolJson.Write(new { server = scenario.Incident.Server, verb, exit_code = hit.ExitCode, output = Texts.Truncate(hit.Output.TrimEnd(), DiagTool.OutputLimit) }));
    }

    private ToolResult Recorded(string tool, ToolArguments arguments)
    {
        if (scenario.Outputs.FirstOrDefault(o => o.Tool == tool) is { } hit) return ToolResult.Ok(hit.Output.TrimEnd());
        var server = scenario.Incident.Server;
        return tool switch
        {
            "server_facts" => ToolResult.Ok(ToolJson.Write(new { name = server, status = "online", kind = "agent", facts = scenario.Facts })),
            "recent_metrics" => ToolResult.Ok(ToolJson.Write(new { server, hours = arguments.Integer("hours") ?? 6, interval_minutes = 15, note = "no metrics stored for this period" })),
            "forecasts" => ToolResult.Ok(ToolJson.Write(new { server, samples = 0, disks = Array.Empty<object>(), processes = Array.Empty<object>() })),
            "past_incidents" => ToolResult.Ok(ToolJson.Write(new { on_server = Array.Empty<object>(), same_type_elsewhere = Array.Empty<object>() })),
            _ => ToolResult.Error(ToolErrors.NotFound, $"there is no tool '{tool}'"),
        };
    }

    private ToolResult ListRecipes(string? type)
    {
        var recipes = library.Values.OrderBy(r => r.Name, StringComparer.Ordinal)
            .Where(r => type is not { Length: > 0 } || r.Remediates.Types.Contains(type))
            .Select(ListRecipesTool.Summary)
            .ToList();
        return ToolResult.Ok(ToolJson.Write(new { recipes }));
    }

    private ToolResult ShowRecipe(string name) => library.TryGetValue(name, out var runbook)
        ? ToolResult.Ok(ToolJson.Write(ShowRecipeTool.Detail(runbook)))
        : ToolResult.Error(ToolErrors.InputInvalid, $"no recipe '{name}'; list_recipes names them");

    private ToolResult Propose(ToolArguments arguments)
    {
        var recipe = arguments.Text("recipe")!;
        var given = arguments.Map("params");
        if (!library.TryGetValue(recipe, out var runbook))
        {
            Proposals.Add(new EvalProposal(recipe, given, null, "no such recipe"));
            return ToolResult.Error(ToolErrors.InputInvalid, $"No runbook '{recipe}' exists in this tenant or the library. (list them with medic runbook list)");
        }

        var (values, errors) = ParameterValues.Bind(runbook, given);
        if (errors.Count > 0)
        {
            var problem = string.Join("; ", errors.Select(e => $"{e.Key}: {e.Value}"));
            Proposals.Add(new EvalProposal(recipe, given, null, problem));
            return ToolResult.Error(ToolErrors.InputInvalid, "The parameters do not fit the runbook: " + problem);
        }

        Proposals.Add(new EvalProposal(recipe, given, values, null));
        return ToolResult.Ok(ToolJson.Write(new
        {
            remediation = $"eval-rem-{Proposals.Count}",
            recipe,
            server = scenario.Incident.Server,
            gate = "needs_approval",
            gate_reason = "evaluation: proposals are recorded, never run",
            status = "awaiting_approval",
            note = "it waits for a person's approval; you cannot approve it",
        }));
    }

    private ToolResult Escalate(string reason)
    {
        Escalations.Add(reason);
        return ToolResult.Ok(ToolJson.Write(new { incident = incident.Id, status = "escalated", note = "a person has it now" }));
    }

    private ToolResult Note(string text)
    {
        Notes.Add(text);
        return ToolResult.Ok(ToolJson.Write(new { incident = incident.Id, noted = true }));
    }
}
