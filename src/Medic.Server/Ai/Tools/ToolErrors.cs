namespace Medic.Server.Ai.Tools;

/// <summary>The structured error codes a tool call can answer the model with (DESIGN §8).</summary>
internal static class ToolErrors
{
    public const string NotFound = "tool.not_found";
    public const string InputInvalid = "tool.input_invalid";
    public const string PolicyDenied = "policy.denied";
    public const string Timeout = "timeout";
    public const string Internal = "internal.error";
}
