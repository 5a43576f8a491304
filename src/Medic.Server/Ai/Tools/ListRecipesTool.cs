using Medic.Server.Runbooks;

namespace Medic.Server.Ai.Tools;

/// <summary>The recipes (runbooks) the tenant can run: the only fixes a model can propose.</summary>
internal sealed class ListRecipesTool(RunbookStore runbooks) : AiTool
{
    public override string Name => "list_recipes";

    public override string Description => "List the recipes (runbooks) that can be proposed: name, what they fix, risk and parameters. Call show_recipe for one recipe's parameter rules.";

    public override IReadOnlyList<ToolParameter> Parameters { get; } =
    [
        new("type", ToolParameterType.String, "Only recipes that declare they remediate this incident type (e.g. disk_full, service_down).", MaxLength: 100),
    ];

    public override async Task<ToolResult> InvokeAsync(AiToolContext context, ToolArguments arguments, CancellationToken ct)
    {
        var type = arguments.Text("type");
        var recipes = new List<object>();
        foreach (var runbook in (await runbooks.LoadLatestAsync(context.TenantId, ct)).Select(r => r.Runbook))
        {
            if (type is { Length: > 0 } && !runbook.Remediates.Types.Contains(type)) continue;
            recipes.Add(Summary(runbook));
        }

        return ToolResult.Ok(ToolJson.Write(new { recipes }));
    }

    /// <summary>One recipe as the list shows it (the evaluation harness shows the library the same way).</summary>
    internal static object Summary(Runbook runbook) => new
    {
        name = runbook.Name,
        description = runbook.Description,
        risk = runbook.Risk.ToString().ToLowerInvariant(),
        remediates = runbook.Remediates.Types,
        parameters = runbook.Parameters.Select(p => p.Name + (p.Required ? "" : "?")).ToArray(),
    };
}
