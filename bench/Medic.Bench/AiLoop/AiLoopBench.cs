using System.ClientModel;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Medic.Bench.Fanout;
using Medic.Contracts;
using Medic.ModelServer;
using Medic.Server.Ai.Eval;
using Medic.Server.Ai.Runs;
using Medic.Server.Ai.Tools;
using Medic.Server.Pipeline;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging.Abstractions;
using OpenAI;

namespace Medic.Bench.AiLoop;

/// <summary>
/// <c>ai-loop [--calls N] [--runs R] [--warmup W]</c>: the AI run loop's own cost per tool call. Each run is a
/// real <see cref="AiRunLoop"/> run with the real OpenAI client against the scripted model server on loopback,
/// answering at once: N turns of one <c>show_recipe</c> call each (a distinct recipe each time, answered from the
/// built-in library as the real tool shows it), then a final text. Then the same N+1 request bodies the loop
/// sent are posted again with a bare HttpClient, with the same replies queued: the HTTP and model-server share.
/// The loop's overhead per tool call is (loop time - bare time) / N; it covers the OpenAI client's request
/// building and response parsing, argument checking against the tool's schema, the tool itself, redaction and
/// the bundle. Also prints the bundle's stored size per tool call.
/// </summary>
internal static class AiLoopBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        int calls = 10, runs = 200, warmup = 20;
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            var value = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "--calls": calls = value; break;
                case "--runs": runs = value; break;
                case "--warmup": warmup = value; break;
                default: Console.Error.WriteLine($"unknown option {args[i]}; usage: ai-loop [--calls N] [--runs R] [--warmup W]"); return 2;
            }
        }

        var library = EvalScenarioLoader.Library();
        var recipes = library.Keys.Order(StringComparer.Ordinal).ToList();
        if (calls < 1 || calls > recipes.Count)
        {
            Console.Error.WriteLine($"--calls must be 1..{recipes.Count} (one distinct recipe per call, so no call is answered from an earlier identical one)");
            return 2;
        }

        await using var model = await ScriptedModelServer.StartAsync();
        var client = new OpenAIClient(new ApiKeyCredential("bench-key"), new OpenAIClientOptions { Endpoint = new Uri(model.OpenAiBaseUrl) })
            .GetChatClient("scripted").AsIChatClient();
        using var bare = new HttpClient { BaseAddress = new Uri(model.BaseUrl) };
        var loop = new AiRunLoop(TimeProvider.System, NullLogger<AiRunLoop>.Instance);
        // The real show_recipe's name, description and schema (its store is never touched: the answer comes from the library, as in the eval).
        var show = new EvalTool(new ShowRecipeTool(null!), a => ToolResult.Ok(ToolJson.Write(ShowRecipeTool.Detail(library[a.Text("name")!]))));
        var replies = recipes.Take(calls).Select(r => ModelReply.ReplyToolCalls(("show_recipe", new { name = r })))
            .Append(ModelReply.ReplyText("Read the recipes; nothing to propose.")).ToList();

        var perCall = new List<double>();
        var loopMs = new List<double>();
        var bareMs = new List<double>();
        long bundleBytes = 0, perCallBytes = 0;
        for (var run = 0; run < warmup + runs; run++)
        {
            var sent = model.Requests.Count;
            foreach (var reply in replies) model.Enqueue(reply);
            var request = new AiRunRequest(
                new AiToolContext { TenantId = "bench", RunId = "bench-" + run, Actor = "ai:bench", Trust = Trust.Supervised },
                "bench", "bench", AiPrompts.System(null, null), "Read the recipes one by one.", [show], new AiRunLimits(calls + 2));
            var clock = Stopwatch.StartNew();
            var bundle = await loop.RunAsync(client, request, null, CancellationToken.None);
            var loopTime = clock.Elapsed.TotalMilliseconds;
            if (bundle.Outcome != "completed" || bundle.Steps.Count(s => s.Kind == "tool" && s.Error is null && !s.Reused) != calls)
            {
                Console.Error.WriteLine($"run {run} did not make {calls} tool calls: outcome {bundle.Outcome}, {bundle.Steps.Count(s => s.Kind == "tool")} tool steps");
                return 1;
            }

            // The same bodies again, bare: what the HTTP round trips and the model server cost on their own.
            var bodies = model.Requests.Skip(sent).Select(r => r.RawBody).ToList();
            foreach (var reply in replies) model.Enqueue(reply);
            clock.Restart();
            foreach (var body in bodies)
            {
                using var content = new StringContent(body, Encoding.UTF8, "application/json");
                using var response = await bare.PostAsync("/v1/chat/completions", content);
                await response.Content.ReadAsByteArrayAsync();
                response.EnsureSuccessStatusCode();
            }

            var bareTime = clock.Elapsed.TotalMilliseconds;
            if (run < warmup) continue;
            loopMs.Add(loopTime);
            bareMs.Add(bareTime);
            perCall.Add((loopTime - bareTime) / calls);
            bundleBytes = Bytes(bundle);
            var final = bundle.Steps.Last(st => st.Kind == "model");
            perCallBytes = bundle.Steps.Where(st => st != final).Sum(StepBytes) / calls;
        }

        var p = new Percentiles(perCall);
        Console.WriteLine($"ai-loop: {runs} runs (after {warmup} warm-up) of {calls} show_recipe calls + a final answer, OpenAI client, scripted model on loopback");
        Console.WriteLine($"run end to end:        mean {loopMs.Average():F2} ms, p50 {new Percentiles(loopMs).P50:F2} ms");
        Console.WriteLine($"bare {calls + 1} round trips:   mean {bareMs.Average():F2} ms, p50 {new Percentiles(bareMs).P50:F2} ms");
        Console.WriteLine($"loop overhead per tool call: mean {perCall.Average():F3} ms, p50 {p.P50:F3} ms, p95 {p.P95:F3} ms");
        Console.WriteLine($"bundle: {bundleBytes} bytes stored, {perCallBytes} bytes per tool call (the model turn that asked for it and the tool step with its result)");
        return 0;
    }

    /// <summary>The prompt, input, output and steps as the run store keeps them (its JSON, without the run summary).</summary>
    private static long Bytes(AiRunBundle bundle) =>
        Encoding.UTF8.GetByteCount(bundle.SystemPrompt) + Encoding.UTF8.GetByteCount(bundle.Input) + Encoding.UTF8.GetByteCount(bundle.Output ?? "") + bundle.Steps.Sum(StepBytes);

    private static long StepBytes(AiRunStep s) => JsonSerializer.SerializeToUtf8Bytes(
        new AiRunStepResponse(s.Index, s.Kind, s.At, s.Ms, s.Text, s.Model, s.InputTokens, s.OutputTokens, s.Tool, s.CallId, s.Arguments, s.Result, s.Error, s.Reused),
        MedicJson.Default.AiRunStepResponse).Length;
}
