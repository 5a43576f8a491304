namespace Medic.Server.Ai.Tools;

/// <summary>
/// One thing a model may do. Most tools only read; the few that act (<see cref="Acts"/>) do it
/// through the same server-side paths a person uses: a proposal through the risk gate, a note on
/// the timeline, an escalation. None holds a shell.
/// </summary>
internal abstract class AiTool
{
    public abstract string Name { get; }

    /// <summary>What the model reads to decide whether to call it.</summary>
    public abstract string Description { get; }

    public virtual IReadOnlyList<ToolParameter> Parameters => [];

    /// <summary>True for tools that change something (a proposal, a note, an escalation): never reused from an earlier call, and never given to a read-only client.</summary>
    public virtual bool Acts => false;

    /// <summary>How long one call may take before the model gets a <c>timeout</c> error.</summary>
    public virtual TimeSpan Timeout => TimeSpan.FromSeconds(30);

    public abstract Task<ToolResult> InvokeAsync(AiToolContext context, ToolArguments arguments, CancellationToken ct);
}
