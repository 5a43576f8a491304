namespace Medic.Server.Pipeline;

/// <summary>The pipeline stages an AI agent can perform when it holds the role (docs/ai.md, "In the pipeline").</summary>
internal enum AiStageRole
{
    /// <summary>Before the triage rules: the agent looks first; the rules still run when it proposes nothing.</summary>
    Triage,

    /// <summary>After the triage rules found no recipe (or the agent's ladder gave up): the next rung before a person.</summary>
    Diagnose,
}

/// <summary>What an AI stage did: a proposal went to the gate, the incident was escalated, or neither (the summary says why).</summary>
internal sealed record AiStageOutcome(string RunId, bool Proposed, bool Escalated, string Summary);

/// <summary>
/// An AI agent performing a pipeline stage. The AI layer implements it; Pipeline only asks. It
/// returns null when no enabled AI agent holds the role or no model is configured: the rules engine
/// then does the stage alone. Its proposals go through <see cref="ProposalStep"/> like any other.
/// </summary>
internal interface IAiStage
{
    Task<AiStageOutcome?> RunAsync(AiStageRole role, string tenantId, string incidentId, int round, CancellationToken ct);
}
