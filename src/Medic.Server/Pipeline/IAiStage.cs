namespace Medic.Server.Pipeline;

/// <summary>The pipeline stages an AI agent can perform when it holds the role (docs/ai.md, "In the pipeline").</summary>
internal enum AiStageRole
{
    /// <summary>Before the triage rules: the agent looks first; the rules still run when it proposes nothing.</summary>
    Triage,

    /// <summary>After the triage rules found no recipe (or the agent's ladder gave up): the next rung before a person.</summary>
    Diagnose,

    /// <summary>After a proposal, before the risk gate decides: a disagreement can only make the gate stricter.</summary>
    Validate,

    /// <summary>After verification (resolved or failed): a review of what was done, noted on the timeline.</summary>
    Review,
}

/// <summary>What an AI stage did: a proposal went to the gate, the incident was escalated, or neither (the summary says why).</summary>
internal sealed record AiStageOutcome(string RunId, bool Proposed, bool Escalated, string Summary);

/// <summary>A proposal as the validating agent reads it: what would run, where, with which parameters, and why.</summary>
internal sealed record ProposalToValidate(
    string Proposer,
    string Recipe,
    int Version,
    string Risk,
    string Description,
    IReadOnlyDictionary<string, string> Parameters,
    string Server,
    string Why);

/// <summary>How a validation ended: the agent agreed, disagreed (with its reason), or gave no verdict (its run failed, timed out or did not say).</summary>
internal enum AiVerdict { Agree, Disagree, NoVerdict }

/// <summary>The validating agent's verdict on one proposal, with its run. <c>Reason</c>: why it disagrees, or why there is no verdict.</summary>
internal sealed record AiValidation(string RunId, string Agent, AiVerdict Verdict, string Reason);

/// <summary>
/// An AI agent performing a pipeline stage. The AI layer implements it; Pipeline only asks. Each
/// method returns null (or does nothing) when no enabled AI agent holds the role or no model is
/// configured: the rules engine then does the stage alone. Proposals go through <see cref="ProposalStep"/>
/// like any other; a validation can only make the gate stricter, never approve or run anything.
/// </summary>
internal interface IAiStage
{
    /// <summary>Triage or diagnosis of the incident's round.</summary>
    Task<AiStageOutcome?> RunAsync(AiStageRole role, string tenantId, string incidentId, int round, CancellationToken ct);

    /// <summary>Whether an enabled agent holds <paramref name="role"/> and the tenant has a model for it.</summary>
    Task<bool> PerformsAsync(AiStageRole role, string tenantId, CancellationToken ct);

    /// <summary>The validating agent's verdict on a proposal, before the gate decides; null when no agent holds <c>validate</c>.</summary>
    Task<AiValidation?> ValidateAsync(string tenantId, string incidentId, ProposalToValidate proposal, CancellationToken ct);

    /// <summary>The reviewing agent's review of the round's outcome, noted on the timeline once per round.</summary>
    Task ReviewAsync(string tenantId, string incidentId, int round, CancellationToken ct);
}
