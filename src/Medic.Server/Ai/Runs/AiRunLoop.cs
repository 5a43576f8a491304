using System.Diagnostics;
using System.Text.Json;
using Medic.Server.Ai.Tools;
using Microsoft.Extensions.AI;

namespace Medic.Server.Ai.Runs;

/// <summary>
/// The model-and-tools loop, bounded: at most <see cref="AiRunLimits.MaxIterations"/> model turns
/// within the wall time, every tool call checked (offered? arguments fit?) and given its own timeout,
/// failures answered with structured errors, an identical repeated call answered from the earlier
/// result. After <see cref="ChangeApproachAfter"/> failed calls in a row the model is told to change
/// approach; after <see cref="StopAfter"/> more the run stops with what was tried. Every step lands
/// in the bundle, redacted.
/// </summary>
internal sealed partial class AiRunLoop(TimeProvider time, ILogger<AiRunLoop> log)
{
    public const int ChangeApproachAfter = 2;
    public const int StopAfter = 3;

    public const string ChangeApproachNotice =
        "The last tool calls failed. Change approach: check the tool's arguments against its description, try another read-only tool, or escalate with what you found.";

    public async Task<AiRunBundle> RunAsync(IChatClient client, AiRunRequest request, Func<AiRunEvent, ValueTask>? onEvent, CancellationToken ct)
    {
        var context = request.Context;
        var started = time.GetUtcNow();
        var clock = Stopwatch.StartNew();
        var bundle = new AiRunBundle
        {
            RunId = context.RunId,
            Purpose = request.Purpose,
            Agent = request.Agent,
            IncidentId = context.Incident?.Id,
            SystemPrompt = context.Redact(request.SystemPrompt),
            Input = context.Redact(request.Input),
            Tools = [.. request.Tools.Select(t => t.Name)],
            StartedAt = started,
        };

        var messages = new List<ChatMessage> { new(ChatRole.System, bundle.SystemPrompt) };
        messages.AddRange(request.History);
        messages.Add(new ChatMessage(ChatRole.User, bundle.Input));
        var options = new ChatOptions
        {
            Tools = [.. request.Tools.Select(t => (AITool)AIFunctionFactory.CreateDeclaration(t.Name, t.Description, ToolArguments.Schema(t.Parameters)))],
            ToolMode = request.Tools.Count == 0 ? null : ChatToolMode.Auto,
        };

        using var wall = CancellationTokenSource.CreateLinkedTokenSource(ct);
        wall.CancelAfter(request.Limits.Wall);
        var earlier = new Dictionary<string, ToolResult>(StringComparer.Ordinal);
        var failures = 0;
        var told = false;
        AiRunOutcome? outcome = null;
        string? reason = null;
        for (var iteration = 1; outcome is null; iteration++)
        {
            if (iteration > request.Limits.MaxIterations)
            {
                (outcome, reason) = (AiRunOutcome.IterationLimit, $"stopped after {request.Limits.MaxIterations} model turns");
                break;
            }

            if (request.BeforeModelCall is { } check && await check(ct) is { } stop)
            {
                (outcome, reason) = (AiRunOutcome.BudgetExhausted, stop);
                break;
            }

            ChatResponse response;
            var turn = Stopwatch.StartNew();
            try
            {
                response = await CallAsync(client, messages, options, onEvent, wall.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                (outcome, reason) = (AiRunOutcome.TimedOut, $"the run's {request.Limits.Wall.TotalSeconds:0} s ran out");
                break;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                ModelFailed(ex, context.RunId);
                (outcome, reason) = (AiRunOutcome.ProviderFailed, "no model answered: " + context.Redact(ex.Message));
                break;
            }

            var input = response.Usage?.InputTokenCount ?? 0;
            var output = response.Usage?.OutputTokenCount ?? 0;
            bundle.InputTokens += input;
            bundle.OutputTokens += output;
            bundle.Model ??= response.ModelId;
            var calls = response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().ToList();
            Add(bundle, new AiRunStep
            {
                Kind = "model", Ms = turn.ElapsedMilliseconds, Text = context.Redact(response.Text), Model = response.ModelId, InputTokens = input, OutputTokens = output,
            });
            messages.AddRange(response.Messages);
            if (calls.Count == 0)
            {
                bundle.Output = context.Redact(response.Text);
                outcome = AiRunOutcome.Completed;
                break;
            }

            foreach (var call in calls)
            {
                var watch = Stopwatch.StartNew();
                var (result, reused) = await InvokeAsync(request, call, earlier, wall.Token);
                var content = context.Redact(result.Content);
                messages.Add(new ChatMessage(ChatRole.Tool, [new FunctionResultContent(call.CallId, content)]));
                Add(bundle, new AiRunStep
                {
                    Kind = "tool", Ms = watch.ElapsedMilliseconds, Tool = call.Name, CallId = call.CallId,
                    Arguments = context.Redact(JsonSerializer.Serialize(call.Arguments ?? new Dictionary<string, object?>(), ToolJson.Options)),
                    Result = content, Error = result.ErrorCode, Reused = reused,
                });
                if (call.Name == "propose_remediation" && !result.Failed && !reused && Remediation(content) is { } id) bundle.Proposals.Add(id);
                if (call.Name == "escalate" && !result.Failed) bundle.Escalated = true;
                if (onEvent is not null) await onEvent(new AiRunEvent("tool", content, call.Name, result.ErrorCode));
                failures = result.Failed ? failures + 1 : 0;
                if (failures == 0) told = false;
            }

            if (!told && failures >= ChangeApproachAfter)
            {
                told = true;
                failures = 0;
                messages.Add(new ChatMessage(ChatRole.User, ChangeApproachNotice));
                Add(bundle, new AiRunStep { Kind = "notice", Text = ChangeApproachNotice });
                if (onEvent is not null) await onEvent(new AiRunEvent("notice", ChangeApproachNotice));
            }
            else if (told && failures >= StopAfter)
            {
                var tried = bundle.Steps.Where(s => s.Kind == "tool").TakeLast(ChangeApproachAfter + StopAfter).Select(s => $"{s.Tool}({s.Arguments}) -> {s.Error}");
                (outcome, reason) = (AiRunOutcome.Stopped, "tool calls kept failing after the model was told to change approach; tried: " + string.Join("; ", tried));
            }
        }

        bundle.Outcome = outcome!.Value.ToText();
        bundle.OutcomeReason = reason;
        bundle.FinishedAt = time.GetUtcNow();
        bundle.LatencyMs = clock.ElapsedMilliseconds;
        return bundle;
    }

    private static async Task<ChatResponse> CallAsync(IChatClient client, List<ChatMessage> messages, ChatOptions options, Func<AiRunEvent, ValueTask>? onEvent, CancellationToken ct)
    {
        if (onEvent is null) return await client.GetResponseAsync(messages, options, ct);
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync(messages, options, ct))
        {
            updates.Add(update);
            if (update.Text is { Length: > 0 } text) await onEvent(new AiRunEvent("text", text));
        }

        return updates.ToChatResponse();
    }

    private async Task<(ToolResult Result, bool Reused)> InvokeAsync(AiRunRequest request, FunctionCallContent call, Dictionary<string, ToolResult> earlier, CancellationToken ct)
    {
        var tool = request.Tools.FirstOrDefault(t => t.Name == call.Name);
        if (tool is null)
        {
            return (ToolResult.Error(ToolErrors.NotFound, $"there is no tool '{call.Name}'; the tools are: {string.Join(", ", request.Tools.Select(t => t.Name))}"), false);
        }

        var (arguments, problem) = ToolArguments.Bind(tool.Parameters, call.Arguments);
        if (arguments is null) return (ToolResult.Error(ToolErrors.InputInvalid, problem!), false);
        var key = tool.Name + "?" + arguments.Canonical();
        if (earlier.TryGetValue(key, out var before)) return (before, true);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(tool.Timeout);
        ToolResult result;
        try
        {
            result = await tool.InvokeAsync(request.Context, arguments, limit.Token);
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            result = ToolResult.Error(ToolErrors.Timeout, $"'{tool.Name}' did not answer within {tool.Timeout.TotalSeconds:0} s");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            ToolFailed(ex, tool.Name, request.Context.RunId);
            result = ToolResult.Error(ToolErrors.Internal, $"'{tool.Name}' failed inside Medic ({ex.GetType().Name}); try another tool");
        }

        earlier[key] = result;
        return (result, false);
    }

    private void Add(AiRunBundle bundle, AiRunStep step)
    {
        step.Index = bundle.Steps.Count;
        step.At = time.GetUtcNow();
        bundle.Steps.Add(step);
    }

    private static string? Remediation(string content)
    {
        try
        {
            using var doc = JsonDocument.Parse(content);
            return doc.RootElement.TryGetProperty("remediation", out var id) ? id.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    [LoggerMessage(1120, LogLevel.Warning, "AI run {RunId}: no model answered")]
    private partial void ModelFailed(Exception ex, string runId);

    [LoggerMessage(1121, LogLevel.Error, "AI run {RunId}: the tool {Tool} failed inside Medic")]
    private partial void ToolFailed(Exception ex, string tool, string runId);
}
