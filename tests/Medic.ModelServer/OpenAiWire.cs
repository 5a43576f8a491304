using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Medic.ModelServer;

/// <summary>The OpenAI Chat Completions wire format: a chat.completion object, or chat.completion.chunk SSE events ending with [DONE].</summary>
internal static class OpenAiWire
{
    public static JsonObject Error(int status, string message) =>
        new() { ["error"] = new JsonObject { ["message"] = message, ["type"] = status >= 500 ? "server_error" : "invalid_request_error", ["param"] = null, ["code"] = null } };

    private static JsonArray ToolCalls(IReadOnlyList<ModelToolCall> calls, string id, bool streaming)
    {
        var array = new JsonArray();
        for (var i = 0; i < calls.Count; i++)
        {
            var call = new JsonObject
            {
                ["id"] = calls[i].Id ?? $"call_{id}_{i}",
                ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = calls[i].Name, ["arguments"] = calls[i].ArgumentsJson },
            };
            if (streaming) call = new JsonObject { ["index"] = i, ["id"] = call["id"]!.DeepClone(), ["type"] = "function", ["function"] = call["function"]!.DeepClone() };
            array.Add(call);
        }

        return array;
    }

    private static JsonObject Usage(long input, long output) =>
        new() { ["prompt_tokens"] = input, ["completion_tokens"] = output, ["total_tokens"] = input + output };

    public static async Task WriteAsync(HttpResponse response, ModelRequest request, ModelReply reply, string id, long input, long output, CancellationToken ct)
    {
        var model = request.Model ?? "scripted";
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var finish = reply.ToolCalls.Count > 0 ? "tool_calls" : "stop";
        if (!request.Stream)
        {
            var message = new JsonObject { ["role"] = "assistant", ["content"] = reply.Text, ["refusal"] = null };
            if (reply.ToolCalls.Count > 0) message["tool_calls"] = ToolCalls(reply.ToolCalls, id, false);
            var body = new JsonObject
            {
                ["id"] = "chatcmpl-" + id,
                ["object"] = "chat.completion",
                ["created"] = created,
                ["model"] = model,
                ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["message"] = message, ["logprobs"] = null, ["finish_reason"] = finish }),
                ["usage"] = Usage(input, output),
            };
            await Sse.WriteJsonAsync(response, 200, body, ct);
            return;
        }

        Sse.Start(response);
        JsonObject Chunk(JsonObject? delta, string? finishReason, JsonObject? usage = null)
        {
            var chunk = new JsonObject { ["id"] = "chatcmpl-" + id, ["object"] = "chat.completion.chunk", ["created"] = created, ["model"] = model };
            chunk["choices"] = delta is null ? new JsonArray() : new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["logprobs"] = null, ["finish_reason"] = finishReason });
            if (usage is not null) chunk["usage"] = usage;
            return chunk;
        }

        await Sse.DataAsync(response, Chunk(new JsonObject { ["role"] = "assistant", ["content"] = "" }, null), ct);
        if (reply.Text is { Length: > 0 } text)
        {
            foreach (var piece in Sse.Pieces(text))
            {
                await Sse.DataAsync(response, Chunk(new JsonObject { ["content"] = piece }, null), ct);
            }
        }

        for (var i = 0; i < reply.ToolCalls.Count; i++)
        {
            // The first delta of a call carries its id and name; the arguments follow in pieces.
            var call = reply.ToolCalls[i];
            var head = new JsonObject { ["index"] = i, ["id"] = call.Id ?? $"call_{id}_{i}", ["type"] = "function", ["function"] = new JsonObject { ["name"] = call.Name, ["arguments"] = "" } };
            await Sse.DataAsync(response, Chunk(new JsonObject { ["tool_calls"] = new JsonArray(head) }, null), ct);
            foreach (var piece in Sse.Pieces(call.ArgumentsJson))
            {
                var part = new JsonObject { ["index"] = i, ["function"] = new JsonObject { ["arguments"] = piece } };
                await Sse.DataAsync(response, Chunk(new JsonObject { ["tool_calls"] = new JsonArray(part) }, null), ct);
            }
        }

        await Sse.DataAsync(response, Chunk(new JsonObject(), finish), ct);
        if (request.Body?["stream_options"]?["include_usage"] is JsonValue u && u.TryGetValue<bool>(out var include) && include)
        {
            await Sse.DataAsync(response, Chunk(null, null, Usage(input, output)), ct);
        }

        await Sse.RawAsync(response, "data: [DONE]\n\n", ct);
    }
}
