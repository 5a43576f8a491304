using Medic.Server.Ai.Tools;

namespace Medic.Server.Ai.Eval;

/// <summary>
/// A real tool's name, description and parameters (so the model sees exactly what it sees in
/// production and the loop checks its arguments against the real schema), answered from a scenario.
/// </summary>
internal sealed class EvalTool(AiTool real, Func<ToolArguments, ToolResult> answer) : AiTool
{
    public override string Name => real.Name;

    public override string Description => real.Description;

    public override IReadOnlyList<ToolParameter> Parameters => real.Parameters;

    public override bool Acts => real.Acts;

    public override TimeSpan Timeout => real.Timeout;

    public override Task<ToolResult> InvokeAsync(AiToolContext context, ToolArguments arguments, CancellationToken ct) =>
        Task.FromResult(answer(arguments));
}
