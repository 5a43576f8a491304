using System.Text.Json;

namespace Medic.Server.Ai.Tools;

/// <summary>What a tool call answers the model: its content, or a structured error (<see cref="ToolErrors"/>).</summary>
internal sealed record ToolResult(string Content, string? ErrorCode = null)
{
    public bool Failed => ErrorCode is not null;

    public static ToolResult Ok(string content) => new(content);

    public static ToolResult Error(string code, string message) =>
        new(JsonSerializer.Serialize(new Dictionary<string, Dictionary<string, string>> { ["error"] = new() { ["code"] = code, ["message"] = message } }, ToolJson.Options), code);
}
