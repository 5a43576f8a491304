namespace Medic.Contracts;

/// <summary>One AI run as listed: what it was for, which model, how it ended, what it cost.</summary>
public sealed record AiRunSummary(
    string Id,
    string Purpose,
    string? Agent,
    string? IncidentId,
    string? Model,
    string Outcome,
    string? OutcomeReason,
    long InputTokens,
    long OutputTokens,
    decimal? Cost,
    int ToolCalls,
    long LatencyMs,
    DateTimeOffset StartedAt,
    DateTimeOffset FinishedAt,
    string Actor,
    string BundleSha256);

/// <summary>One step of a run: a model turn (<c>model</c>), a tool call (<c>tool</c>) or a notice the loop gave the model (<c>notice</c>).</summary>
public sealed record AiRunStepResponse(
    int Index,
    string Kind,
    DateTimeOffset At,
    long Ms,
    string? Text = null,
    string? Model = null,
    long? InputTokens = null,
    long? OutputTokens = null,
    string? Tool = null,
    string? CallId = null,
    string? Arguments = null,
    string? Result = null,
    string? Error = null,
    bool Reused = false);

/// <summary>
/// The run's bundle: everything it was asked and did. <c>Integrity</c> says whether the stored bundle
/// still hashes to the SHA-256 the audit chain recorded when it finished (<c>ok</c>, <c>mismatch</c>,
/// or <c>unrecorded</c> when no audit entry names it).
/// </summary>
public sealed record AiRunBundleResponse(
    AiRunSummary Run,
    string SystemPrompt,
    string Input,
    IReadOnlyList<string> Tools,
    IReadOnlyList<AiRunStepResponse> Steps,
    string? Output,
    IReadOnlyList<string> Proposals,
    bool Escalated,
    string Integrity);
