using System.Text.Json;
using System.Text.Json.Nodes;

namespace Medic.ModelServer;

/// <summary>A tool call the scripted model makes: a function name and its JSON arguments.</summary>
public sealed record ModelToolCall(string Name, string ArgumentsJson, string? Id = null)
{
    /// <summary><paramref name="args"/>: a JSON string, a <see cref="JsonNode"/>, or any object (serialized with System.Text.Json).</summary>
    public static ModelToolCall Of(string name, object? args) => new(name, args switch
    {
        null => "{}",
        string s => s,
        JsonNode node => node.ToJsonString(),
        JsonElement element => element.GetRawText(),
        _ => JsonSerializer.Serialize(args, args.GetType()),
    });
}

/// <summary>
/// One scripted answer: assistant text and/or tool calls, or an HTTP failure; optionally after a
/// delay and with the token counts to report (estimated from the text lengths when not given).
/// </summary>
public sealed record ModelReply
{
    public string? Text { get; init; }

    public IReadOnlyList<ModelToolCall> ToolCalls { get; init; } = [];

    /// <summary>Non-null: answer this HTTP status with <see cref="ErrorBody"/> instead of a completion.</summary>
    public int? Status { get; init; }

    public string? ErrorBody { get; init; }

    public TimeSpan Delay { get; init; }

    public long? InputTokens { get; init; }

    public long? OutputTokens { get; init; }

    public static ModelReply ReplyText(string text) => new() { Text = text };

    public static ModelReply ReplyToolCalls(params (string Name, object Args)[] calls) =>
        new() { ToolCalls = [.. calls.Select(c => ModelToolCall.Of(c.Name, c.Args))] };

    public static ModelReply Fail(int status, string body) => new() { Status = status, ErrorBody = body };

    public ModelReply After(TimeSpan delay) => this with { Delay = delay };

    public ModelReply WithUsage(long input, long output) => this with { InputTokens = input, OutputTokens = output };

    /// <summary>Reads one reply of a script file: {"text"}, {"tool_calls":[{"name","arguments"}]}, {"status","body"}, "delay_ms", "usage":{"input","output"}.</summary>
    public static ModelReply FromJson(JsonObject o)
    {
        var reply = new ModelReply
        {
            Text = (string?)o["text"],
            ToolCalls = o["tool_calls"] is JsonArray calls
                ? [.. calls.Select(c => ModelToolCall.Of((string?)c!["name"] ?? throw new FormatException("a tool call needs a name"), c["arguments"]?.DeepClone() ?? new JsonObject()))]
                : [],
            Status = (int?)o["status"],
            ErrorBody = o["body"] is JsonNode b ? (b is JsonValue v && v.TryGetValue<string>(out var s) ? s : b.ToJsonString()) : null,
            Delay = TimeSpan.FromMilliseconds((double?)o["delay_ms"] ?? 0),
            InputTokens = (long?)o["usage"]?["input"],
            OutputTokens = (long?)o["usage"]?["output"],
        };
        if (reply.Status is null && reply.Text is null && reply.ToolCalls.Count == 0)
        {
            throw new FormatException("a reply needs text, tool_calls or status: " + o.ToJsonString());
        }

        return reply;
    }
}
