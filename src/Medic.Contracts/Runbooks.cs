namespace Medic.Contracts;

/// <summary>The JSON form of an apply: the runbook's YAML as text (the endpoint also takes the YAML itself as text/yaml).</summary>
public sealed record ApplyRunbookRequest(string Content);

/// <summary><c>Changed</c> is false when the same content was already stored (applying it again is a no-op).</summary>
public sealed record RunbookApplyResponse(string Name, int Version, string ContentHash, bool Changed, bool OverridesBuiltin);

/// <summary>
/// One runbook as the tenant sees it: its latest (or requested) version. <c>Source</c> is
/// <c>tenant</c> or <c>builtin</c>; a tenant's runbook with a built-in's name overrides it.
/// </summary>
public sealed record RunbookSummary(
    string Name,
    int Version,
    string Description,
    string Risk,
    string Source,
    bool OverridesBuiltin,
    string ContentHash,
    string Author,
    DateTimeOffset CreatedAt);

public sealed record RunbookParameterResponse(
    string Name,
    string Type,
    bool Required,
    string? Default,
    string? Description,
    string? Pattern,
    long? Min,
    long? Max,
    IReadOnlyList<string>? Values);

/// <summary>A stored version with its YAML, its parameters and the other versions there are.</summary>
public sealed record RunbookResponse(
    RunbookSummary Runbook,
    string Content,
    IReadOnlyList<RunbookParameterResponse> Parameters,
    IReadOnlyList<int> Versions);

/// <summary><c>Diff</c> is a unified line diff from version <c>From</c> to <c>To</c>.</summary>
public sealed record RunbookDiffResponse(string Name, int From, int To, string Diff);

/// <summary>
/// Runs a runbook by hand. <c>Params</c> are strings as typed (checked against the runbook's
/// schema before anything runs); <c>Selector</c> overrides the runbook's own <c>targets</c>;
/// <c>Confirmed</c> is the caller's yes to the runbook's approval steps (without it they refuse);
/// <c>DryRun</c> only resolves targets and parameters and returns what would run.
/// </summary>
public sealed record RunbookRunRequest(
    IReadOnlyDictionary<string, string>? Params = null,
    ExecSelector? Selector = null,
    bool DryRun = false,
    bool Confirmed = false,
    int? Version = null,
    string? IdempotencyKey = null);

/// <summary>
/// One step's outcome on one server. <c>Phase</c> is <c>main</c> or <c>rollback</c>; <c>Status</c>
/// is ok, failed, skipped (its <c>when</c> was false, or the step was not reached), timeout,
/// refused (by the agent's policy or an approval) or offline.
/// </summary>
public sealed record RunbookStepResponse(
    int Seq,
    string Server,
    int Step,
    string Name,
    string Type,
    string Phase,
    RunbookStepStatus Status,
    int? ExitCode,
    long DurationMs,
    string Stdout,
    string Stderr,
    bool Truncated,
    string? Reason,
    DateTimeOffset StartedAt);

/// <summary>What a dry run shows for one step on one server: the exact argv and environment, or the request, wait or message.</summary>
public sealed record RunbookPlannedStep(
    string Server,
    int Step,
    string Name,
    string Type,
    string Phase,
    IReadOnlyList<string>? Argv,
    IReadOnlyDictionary<string, string>? Env,
    string? Detail,
    string? When);

public sealed record RunbookRunResponse(
    string Id,
    string Runbook,
    int Version,
    RunbookRunStatus Status,
    bool DryRun,
    string Actor,
    IReadOnlyList<string> Targets,
    IReadOnlyDictionary<string, string> Params,
    IReadOnlyList<RunbookStepResponse> Steps,
    IReadOnlyList<RunbookPlannedStep>? Plan,
    string? Error,
    DateTimeOffset CreatedAt,
    DateTimeOffset? FinishedAt);

/// <summary>A runbook run as <c>GET /api/v1/runbook-runs</c> lists it: without its steps (<c>GET /api/v1/runbook-runs/{id}</c> has them).</summary>
public sealed record RunbookRunSummary(
    string Id,
    string Runbook,
    int Version,
    RunbookRunStatus Status,
    string Actor,
    IReadOnlyList<string> Targets,
    string? Error,
    DateTimeOffset CreatedAt,
    DateTimeOffset? FinishedAt);

/// <summary>Runbook runs, newest first; pass <c>NextBefore</c> back as <c>before</c> for the next page.</summary>
public sealed record RunbookRunPage(IReadOnlyList<RunbookRunSummary> Items, string? NextBefore);

/// <summary>
/// One message of <c>/ws/runbook-runs/{id}</c>: <c>step_started</c>, <c>output</c> (a chunk of a
/// running step's stdout or stderr), <c>step_finished</c> (with <c>Result</c>) and, last,
/// <c>finished</c> (with the run's <c>Status</c>).
/// </summary>
public sealed record RunbookRunEvent(
    string Type,
    string? Server = null,
    int? Step = null,
    string? Name = null,
    string? Phase = null,
    string? Stream = null,
    string? Data = null,
    RunbookStepResponse? Result = null,
    RunbookRunStatus? Status = null);
