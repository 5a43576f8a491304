using System.Globalization;
using System.Text.RegularExpressions;
using Medic.Contracts;
using Medic.Server.Ai.Tools;

namespace Medic.Server.Ai.OperatorTools;

/// <summary>
/// One of a tenant's operator-defined tools as stored: its template (validated by
/// <see cref="OperatorToolRules"/>, every field filled in) and who saved it when.
/// </summary>
internal sealed record OperatorToolDefinition(AiToolRequest Template, string CreatedBy, DateTimeOffset CreatedAt, string UpdatedBy, DateTimeOffset UpdatedAt)
{
    public const string ShellCommand = "shell_command";
    public const string HttpRequest = "http_request";

    public string Name => Template.Name!;

    public string Kind => Template.Kind!;

    public TimeSpan Timeout => TimeSpan.FromSeconds(Template.TimeoutSeconds!.Value);

    public int OutputLimit => Template.OutputLimit!.Value;

    /// <summary>The typed parameters as the run loop checks them: every one required, strings matched whole by their pattern.</summary>
    public IReadOnlyList<ToolParameter> ToolParameters() => [.. (Template.Parameters ?? []).Select(ToToolParameter)];

    /// <summary>The text a parameter's value takes in the argv or the URL (before URL-encoding).</summary>
    public static string Value(ToolArguments arguments, AiToolParameter parameter) => parameter.Type == OperatorToolRules.Integer
        ? arguments.Integer(parameter.Name)!.Value.ToString(CultureInfo.InvariantCulture)
        : arguments.Text(parameter.Name)!;

    public AiToolResponse ToResponse() => new(
        Name, Template.Description!, Kind, Template.Program, Template.Args ?? [], Template.Method, Template.Url, Template.Parameters ?? [],
        Template.TimeoutSeconds!.Value, OutputLimit, CreatedBy, CreatedAt, UpdatedBy, UpdatedAt);

    private static ToolParameter ToToolParameter(AiToolParameter p) => p.Type switch
    {
        OperatorToolRules.Integer => new ToolParameter(p.Name, ToolParameterType.Integer, p.Description ?? "", Required: true,
            Min: (int)(p.Min ?? int.MinValue), Max: (int)(p.Max ?? int.MaxValue)),
        OperatorToolRules.Enum => new ToolParameter(p.Name, ToolParameterType.String, p.Description ?? "", Required: true, Values: p.Values, MaxLength: 200),
        _ => new ToolParameter(p.Name, ToolParameterType.String, p.Description ?? "", Required: true, MaxLength: p.MaxLength ?? OperatorToolRules.DefaultMaxLength,
            Pattern: OperatorToolRules.Compile(p.Pattern!)) { PatternText = p.Pattern },
    };
}
