using System.CommandLine;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Medic.Contracts;

namespace Medic.Cli.Commands;

/// <summary><c>medic ai eval --model NAME</c>: the evaluation scenarios against a model entry, scored (docs/ai-eval.md).</summary>
internal static class AiEvalCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = "The model entry to evaluate (medic ai models list); default: the tenant's default" };
        var only = new Option<string[]>("--only") { Description = "Only these scenario ids (repeat, or comma-separated)" };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON" };
        var eval = new Command("eval", "Score a model on the evaluation scenarios: accuracy, forbidden actions, tool calls, tokens, latency (admins; spends tokens)") { model, only, json };
        eval.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var ids = (parse.GetValue(only) ?? []).SelectMany(o => o.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
            var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/ai/eval")
            {
                Content = JsonContent.Create(new EvalRequest(parse.GetValue(model), ids.Count == 0 ? null : ids), MedicJson.Default.EvalRequest),
            };
            using var response = await client.SendRawAsync(request, ct, HttpCompletionOption.ResponseHeadersRead);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
            EvalReport? report = null;
            while (await reader.ReadLineAsync(ct) is { } line)
            {
                if (line.Length == 0 || JsonSerializer.Deserialize(line, ApiClient.Json.EvalEvent) is not { } e) continue;
                if (e.Type == "report")
                {
                    report = e.Report;
                }
                else if (e.Scenario is { } s && !parse.GetValue(json))
                {
                    Console.Error.WriteLine($"[{e.Index}/{e.Of}] {s.Id}: {(s.Correct ? "correct" : "WRONG")} ({s.Verdict}){(s.Forbidden.Count > 0 ? " FORBIDDEN: " + string.Join(", ", s.Forbidden) : "")}, {s.ToolCalls} tool calls, {s.LatencyMs} ms");
                }
            }

            if (report is null) throw new CliException("the evaluation ended without a report", "see the server's log; try again with --only ID", ExitCodes.ServerError);
            if (parse.GetValue(json))
            {
                Output.Json(report, ApiClient.Json.EvalReport);
                return ExitCodes.Ok;
            }

            var c = CultureInfo.InvariantCulture;
            Console.Out.WriteLine($"model {report.Model}: {report.Correct}/{report.Scenarios} correct ({report.AccuracyPercent.ToString("0.0", c)} %), {report.ForbiddenActions} forbidden actions");
            Console.Out.WriteLine($"mean {report.MeanToolCalls.ToString("0.0", c)} tool calls, {report.InputTokens} input + {report.OutputTokens} output tokens, latency p50 {report.P50LatencyMs} ms, p95 {report.P95LatencyMs} ms");
            return ExitCodes.Ok;
        });
        return eval;
    }
}
