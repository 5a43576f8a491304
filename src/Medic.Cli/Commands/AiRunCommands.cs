using System.CommandLine;
using System.Globalization;
using Medic.Contracts;

namespace Medic.Cli.Commands;

/// <summary><c>medic ai runs list|show</c>: every AI run and its bundle (what the model was told, each tool call, the output).</summary>
internal static class AiRunCommands
{
    public static Command Runs()
    {
        var incident = new Option<string?>("--incident") { Description = "Only the runs about this incident" };
        var purpose = new Option<string?>("--purpose") { Description = "Only runs for: triage, diagnose, ask, patrol, mcp, eval" };
        var limit = new Option<int>("--limit") { Description = "How many, newest first (1-500)", DefaultValueFactory = _ => 50 };
        var json = Shared.JsonOption();
        var list = new Command("list", "AI runs, newest first: purpose, agent, model, outcome, tool calls, tokens, cost") { incident, purpose, limit, json };
        list.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var query = new List<string> { "limit=" + parse.GetValue(limit).ToString(CultureInfo.InvariantCulture) };
            if (parse.GetValue(incident) is { } i) query.Add("incident=" + Shared.Escape(i));
            if (parse.GetValue(purpose) is { } p) query.Add("purpose=" + Shared.Escape(p));
            var runs = await client.GetAsync("/api/v1/ai/runs?" + string.Join("&", query), ApiClient.Json.IReadOnlyListAiRunSummary, ct);
            if (parse.GetValue(json))
            {
                Output.Json(runs, ApiClient.Json.IReadOnlyListAiRunSummary);
                return ExitCodes.Ok;
            }

            if (runs.Count == 0)
            {
                Console.Out.WriteLine("No AI runs yet. With a model configured (medic ai models add), an AI agent diagnoses incidents the rules cannot fix; see docs/ai.md.");
                return ExitCodes.Ok;
            }

            Output.Table(["ID", "STARTED", "PURPOSE", "AGENT", "INCIDENT", "MODEL", "OUTCOME", "TOOLS", "TOKENS", "COST", "SECONDS"], runs.Select(r => (IReadOnlyList<string?>)
            [
                r.Id, Output.Time(r.StartedAt), r.Purpose, r.Agent, r.IncidentId, r.Model, r.Outcome, r.ToolCalls.ToString(CultureInfo.InvariantCulture),
                (r.InputTokens + r.OutputTokens).ToString(CultureInfo.InvariantCulture), r.Cost is { } c ? "$" + c.ToString("0.0000", CultureInfo.InvariantCulture) : "-",
                (r.LatencyMs / 1000.0).ToString("0.0", CultureInfo.InvariantCulture),
            ]));
            return ExitCodes.Ok;
        });

        var id = new Argument<string>("id") { Description = "The run's id (medic ai runs list)" };
        var showJson = Shared.JsonOption();
        var show = new Command("show", "One run's bundle: the prompt, each model turn and tool call with its result, the output, and whether it matches the audit chain") { id, showJson };
        show.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var bundle = await client.GetAsync("/api/v1/ai/runs/" + Shared.Escape(parse.GetValue(id)!), ApiClient.Json.AiRunBundleResponse, ct);
            if (parse.GetValue(showJson))
            {
                Output.Json(bundle, ApiClient.Json.AiRunBundleResponse);
                return ExitCodes.Ok;
            }

            Print(bundle);
            return ExitCodes.Ok;
        });

        return new Command("runs", "AI runs and their bundles (every prompt, tool call and result)") { list, show };
    }

    private static void Print(AiRunBundleResponse bundle)
    {
        var r = bundle.Run;
        var o = Console.Out;
        o.WriteLine($"run {r.Id}: {r.Purpose}{(r.Agent is null ? "" : " by " + r.Agent)}{(r.IncidentId is null ? "" : " on incident " + r.IncidentId)}");
        o.WriteLine($"model {r.Model ?? "-"}, outcome {r.Outcome}{(r.OutcomeReason is null ? "" : " (" + r.OutcomeReason + ")")}");
        o.WriteLine($"{r.ToolCalls} tool calls, {r.InputTokens} input + {r.OutputTokens} output tokens{(r.Cost is { } c ? ", $" + c.ToString("0.0000", CultureInfo.InvariantCulture) : "")}, {r.LatencyMs} ms");
        o.WriteLine($"bundle sha256 {r.BundleSha256}: {(bundle.Integrity == "ok" ? "matches the audit chain" : bundle.Integrity)}");
        o.WriteLine($"tools offered: {string.Join(", ", bundle.Tools)}");
        o.WriteLine();
        o.WriteLine("input:");
        o.WriteLine(Indent(bundle.Input));
        foreach (var step in bundle.Steps)
        {
            o.WriteLine();
            switch (step.Kind)
            {
                case "model":
                    o.WriteLine($"[{step.Index}] model ({step.Ms} ms, {step.InputTokens}+{step.OutputTokens} tokens){(string.IsNullOrWhiteSpace(step.Text) ? "" : ":")}");
                    if (!string.IsNullOrWhiteSpace(step.Text)) o.WriteLine(Indent(step.Text));
                    break;
                case "tool":
                    o.WriteLine($"[{step.Index}] tool {step.Tool} {step.Arguments} ({step.Ms} ms){(step.Reused ? " reused" : "")}{(step.Error is null ? "" : " ERROR " + step.Error)}");
                    o.WriteLine(Indent(step.Result is { Length: > 2000 } long_ ? long_[..2000] + " …" : step.Result ?? ""));
                    break;
                default:
                    o.WriteLine($"[{step.Index}] notice: {step.Text}");
                    break;
            }
        }

        if (bundle.Proposals.Count > 0) o.WriteLine($"\nproposed: {string.Join(", ", bundle.Proposals)} (see medic approvals)");
        if (bundle.Escalated) o.WriteLine("\nescalated to a person");
        if (bundle.Output is { Length: > 0 } output)
        {
            o.WriteLine("\noutput:");
            o.WriteLine(Indent(output));
        }
    }

    private static string Indent(string text) => string.Join("\n", text.Split('\n').Select(l => "  " + l));
}
