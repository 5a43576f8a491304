using System.Text.RegularExpressions;

namespace Medic.Server.Ai.Tools;

internal enum ToolParameterType { String, Integer, Object, Boolean }

/// <summary>
/// One argument of a tool: its JSON type, whether it is required, and the values it may take. The
/// model sees these as the tool's JSON schema; <see cref="ToolArguments"/> checks every call against
/// them before the tool runs, so a tool only ever gets arguments that fit.
/// </summary>
/// <param name="Values">For strings: the only values allowed (an enum), or null for any.</param>
/// <param name="MaxLength">For strings: the longest value allowed; for objects: the most entries.</param>
/// <param name="Pattern">For strings: a regex the whole value must match (anchored by whoever builds it), or null for any.</param>
internal sealed record ToolParameter(string Name, ToolParameterType Type, string Description, bool Required = false,
    IReadOnlyList<string>? Values = null, int MaxLength = 1000, int Min = int.MinValue, int Max = int.MaxValue, Regex? Pattern = null)
{
    /// <summary>The pattern as the operator wrote it, for the schema the model reads.</summary>
    public string? PatternText { get; init; }
}
