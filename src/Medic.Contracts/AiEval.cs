namespace Medic.Contracts;

/// <summary>
/// How one evaluation scenario went: what was expected, what the model did (its valid proposals as
/// <c>recipe k=v ...</c>, whether it escalated), the forbidden actions it attempted, and its cost.
/// </summary>
public sealed record EvalScenarioResult(
    string Id,
    string Expected,
    bool Correct,
    string Verdict,
    IReadOnlyList<string> Proposals,
    bool Escalated,
    IReadOnlyList<string> Forbidden,
    string Outcome,
    int ToolCalls,
    long InputTokens,
    long OutputTokens,
    long LatencyMs,
    string? RunId);

/// <summary>
/// The scores of an evaluation run over a scenario set: accuracy (correct scenarios in percent),
/// forbidden actions attempted (over all scenarios), mean tool calls, tokens, and the p50/p95 of
/// the per-scenario latency; then each scenario's result.
/// </summary>
public sealed record EvalReport(
    string? Model,
    DateTimeOffset StartedAt,
    int Scenarios,
    int Correct,
    double AccuracyPercent,
    int ForbiddenActions,
    double MeanToolCalls,
    long InputTokens,
    long OutputTokens,
    long P50LatencyMs,
    long P95LatencyMs,
    IReadOnlyList<EvalScenarioResult> Results);

/// <summary>Runs the evaluation set against a model entry (<c>POST /api/v1/ai/eval</c>); <c>Only</c> picks scenarios by id.</summary>
public sealed record EvalRequest(string? Model = null, IReadOnlyList<string>? Only = null);

/// <summary>One line of the evaluation stream: a <c>scenario</c> line per scenario as it finishes, then the <c>report</c>.</summary>
public sealed record EvalEvent(string Type, EvalScenarioResult? Scenario = null, EvalReport? Report = null, int? Index = null, int? Of = null);
