using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Medic.ModelServer;

/// <summary>The Anthropic Messages wire format: a message object, or the message_start ... message_stop event stream.</summary>
internal static class AnthropicWire
{
    public static JsonObject Error(int status, string message) =>
        new() { ["type"] = "error", ["error"] = new JsonObject { ["type"] = status switch { 429 => "rate_limit_error", 529 => "overloaded_error", >= 500 => "api_error", 401 => "authentication_error", _ => "invalid_request_error" }, ["message"] = message } };

    private static JsonObject Usage(long input, long output) => new()
    {
        ["input_tokens"] = input,
        ["output_tokens"] = output,
        ["cache_creation_input_tokens"] = 0,
        ["cache_read_input_tokens"] = 0,
        ["cache_creation"] = null,
        ["server_tool_use"] = null,
        ["service_tier"] = "standard",
    };

    private static JsonObject Message(string id, string model, JsonArray content, string? stopReason, JsonObject usage) => new()
    {
        ["id"] = "msg_" + id,
        ["type"] = "message",
        ["role"] = "assistant",
        ["model"] = model,
        ["content"] = content,
        ["stop_reason"] = stopReason,
        ["stop_sequence"] = null,
        ["container"] = null,
        ["usage"] = usage,
    };

    public static async Task WriteAsync(HttpResponse response, ModelRequest request, ModelReply reply, string id, long input, long output, CancellationToken ct)
    {
        var model = request.Model ?? "scripted";
        var stop = reply.ToolCalls.Count > 0 ? "tool_use" : "end_turn";
        string ToolId(int i) => reply.ToolCalls[i].Id ?? $"toolu_{id}_{i}";
        if (!request.Stream)
        {
            var content = new JsonArray();
            if (reply.Text is { Length: > 0 } text) content.Add(new JsonObject { ["type"] = "text", ["text"] = text, ["citations"] = null });
            for (var i = 0; i < reply.ToolCalls.Count; i++)
            {
                content.Add(new JsonObject { ["type"] = "tool_use", ["id"] = ToolId(i), ["name"] = reply.ToolCalls[i].Name, ["input"] = JsonNode.Parse(reply.ToolCalls[i].ArgumentsJson) });
            }

            await Sse.WriteJsonAsync(response, 200, Message(id, model, content, stop, Usage(input, output)), ct);
            return;
        }

        Sse.Start(response);
        await Sse.EventAsync(response, "message_start", new JsonObject { ["type"] = "message_start", ["message"] = Message(id, model, [], null, Usage(input, 1)) }, ct);
        var index = 0;
        if (reply.Text is { Length: > 0 } streamed)
        {
            await Sse.EventAsync(response, "content_block_start", new JsonObject { ["type"] = "content_block_start", ["index"] = index, ["content_block"] = new JsonObject { ["type"] = "text", ["text"] = "", ["citations"] = null } }, ct);
            foreach (var piece in Sse.Pieces(streamed))
            {
                await Sse.EventAsync(response, "content_block_delta", new JsonObject { ["type"] = "content_block_delta", ["index"] = index, ["delta"] = new JsonObject { ["type"] = "text_delta", ["text"] = piece } }, ct);
            }

            await Sse.EventAsync(response, "content_block_stop", new JsonObject { ["type"] = "content_block_stop", ["index"] = index }, ct);
            index++;
        }

        for (var i = 0; i < reply.ToolCalls.Count; i++, index++)
        {
            var call = reply.ToolCalls[i];
            await Sse.EventAsync(response, "content_block_start", new JsonObject
            {
                ["type"] = "content_block_start", ["index"] = index,
                ["content_block"] = new JsonObject { ["type"] = "tool_use", ["id"] = ToolId(i), ["name"] = call.Name, ["input"] = new JsonObject() },
            }, ct);
            foreach (var piece in Sse.Pieces(call.ArgumentsJson))
            {
                await Sse.EventAsync(response, "content_block_delta", new JsonObject { ["type"] = "content_block_delta", ["index"] = index, ["delta"] = new JsonObject { ["type"] = "input_json_delta", ["partial_json"] = piece } }, ct);
            }

            await Sse.EventAsync(response, "content_block_stop", new JsonObject { ["type"] = "content_block_stop", ["index"] = index }, ct);
        }

        await Sse.EventAsync(response, "message_delta", new JsonObject
        {
            ["type"] = "message_delta",
            ["delta"] = new JsonObject { ["stop_reason"] = stop, ["stop_sequence"] = null },
            ["usage"] = new JsonObject { ["input_tokens"] = input, ["output_tokens"] = output },
        }, ct);
        await Sse.EventAsync(response, "message_stop", new JsonObject { ["type"] = "message_stop" }, ct);
    }
}
