using Medic.Server.Ai.Tools;
using Microsoft.Extensions.AI;

namespace Medic.Server.Ai.Runs;

/// <summary>The budgets of one run (DESIGN §8: bounded runs).</summary>
internal sealed record AiRunLimits(int MaxIterations = 20, TimeSpan? WallTime = null)
{
    public TimeSpan Wall => WallTime ?? TimeSpan.FromMinutes(5);
}

/// <summary>One run for the loop: the caller's scope, what the model is told and asked, and the tools it may call.</summary>
internal sealed record AiRunRequest(
    AiToolContext Context,
    string Purpose,
    string? Agent,
    string SystemPrompt,
    string Input,
    IReadOnlyList<AiTool> Tools,
    AiRunLimits Limits)
{
    /// <summary>Earlier turns of a conversation (<c>medic ask</c> sessions), before <see cref="Input"/>.</summary>
    public IReadOnlyList<ChatMessage> History { get; init; } = [];

    /// <summary>Asked before every model call: a reason to stop (the budget is spent), or null to go on.</summary>
    public Func<CancellationToken, Task<string?>>? BeforeModelCall { get; init; }
}

/// <summary>Something a watcher of a live run sees: streamed text, a tool call and its result, a notice.</summary>
internal sealed record AiRunEvent(string Kind, string Text, string? Tool = null, string? Error = null);
