using System.Text.Json.Nodes;

namespace Medic.ModelServer;

/// <summary>
/// A request the scripted server received. Headers are kept except the credential's value: for
/// <c>Authorization</c> and <c>x-api-key</c> only whether one was sent and the first 12 hex digits
/// of the SHA-256 of its value (the bearer token without "Bearer ").
/// </summary>
public sealed record ModelRequest(
    string Api,
    string Path,
    IReadOnlyDictionary<string, string> Headers,
    bool HadAuth,
    string? AuthSha256Prefix,
    string RawBody,
    JsonNode? Body)
{
    public const string OpenAi = "openai";
    public const string Anthropic = "anthropic";

    public string? Model => (string?)Body?["model"];

    public bool Stream => Body?["stream"] is JsonValue v && v.TryGetValue<bool>(out var s) && s;

    /// <summary>The text of the last user message (string content or the text parts of a content list).</summary>
    public string LastUserText
    {
        get
        {
            var last = (Body?["messages"] as JsonArray)?.LastOrDefault(m => (string?)m?["role"] == "user");
            return last?["content"] switch
            {
                JsonValue v when v.TryGetValue<string>(out var s) => s,
                JsonArray parts => string.Join("\n", parts.Select(p => (string?)p?["text"] ?? (p?["content"] as JsonValue)?.ToString()).Where(t => t is not null)),
                _ => "",
            };
        }
    }

    /// <summary>The names of the tools the request offered.</summary>
    public IReadOnlyList<string> ToolNames =>
        [.. (Body?["tools"] as JsonArray ?? []).Select(t => (string?)t?["function"]?["name"] ?? (string?)t?["name"] ?? "")];
}
