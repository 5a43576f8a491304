using Medic.Server.Runbooks;

namespace Medic.Server.Ai.Tools;

/// <summary>One recipe in full: its parameter schema (types, patterns, bounds), risk and steps.</summary>
internal sealed class ShowRecipeTool(RunbookStore runbooks) : AiTool
{
    public override string Name => "show_recipe";

    public override string Description => "Show one recipe: its parameters with their types, patterns and bounds, its risk, and what each step does.";

    public override IReadOnlyList<ToolParameter> Parameters { get; } =
    [
        new("name", ToolParameterType.String, "The recipe's name, from list_recipes.", Required: true, MaxLength: 100),
    ];

    public override async Task<ToolResult> InvokeAsync(AiToolContext context, ToolArguments arguments, CancellationToken ct)
    {
        var name = arguments.Text("name")!;
        if (await runbooks.FindAsync(context.TenantId, name, null, ct) is not { } row)
        {
            return ToolResult.Error(ToolErrors.InputInvalid, $"no recipe '{name}'; list_recipes names them");
        }

        return ToolResult.Ok(ToolJson.Write(Detail(runbooks.Load(row).Runbook)));
    }

    /// <summary>One recipe in full as the model reads it (the evaluation harness shows the library the same way).</summary>
    internal static object Detail(Runbook runbook) => new
    {
        name = runbook.Name,
        version = runbook.Version,
        description = runbook.Description,
        risk = runbook.Risk.ToString().ToLowerInvariant(),
        remediates = runbook.Remediates.Types,
        parameters = runbook.Parameters.Select(p => p.ToResponse()).ToArray(),
        steps = runbook.Steps.Select(s => new { name = s.Name, type = s.Type }).ToArray(),
    };
}
