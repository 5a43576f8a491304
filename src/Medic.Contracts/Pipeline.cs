namespace Medic.Contracts;

/// <summary>
/// One remediation the pipeline chose for an incident in one round: the recipe (runbook and
/// version), its parameters, the server, who proposed it with what trust, what the risk gate
/// decided and why, and how it went (<c>Status</c>).
/// </summary>
public sealed record RemediationResponse(
    string Id,
    string IncidentId,
    int Round,
    string Runbook,
    int Version,
    string Risk,
    IReadOnlyDictionary<string, string> Params,
    string? ServerId,
    string? Server,
    string ProposedBy,
    string Trust,
    string Gate,
    string GateReason,
    RemediationStatus Status,
    string? RunId,
    string? Verification,
    string? Error,
    DateTimeOffset CreatedAt,
    DateTimeOffset? FinishedAt);

/// <summary>
/// A remediation waiting on a person: exactly what will run (<c>Plan</c>), where, with which
/// parameters and at what risk.
/// <c>Link</c> opens it in the console.
/// </summary>
public sealed record ApprovalResponse(
    string Id,
    string IncidentId,
    string IncidentTitle,
    ApprovalStatus Status,
    string RequestedBy,
    string Reason,
    string Runbook,
    int Version,
    string Risk,
    string? Server,
    IReadOnlyDictionary<string, string> Params,
    IReadOnlyList<RunbookPlannedStep> Plan,
    DateTimeOffset ExpiresAt,
    string? DecidedBy,
    DateTimeOffset? DecidedAt,
    string? Comment,
    DateTimeOffset CreatedAt,
    string Link);

public sealed record ApproveRequest(string? Comment = null);

public sealed record RejectRequest(string? Reason = null);

/// <summary>A person proposes a recipe for an incident; the risk gate then decides whether it needs another person's approval.</summary>
public sealed record ProposeRemediationRequest(string Runbook, IReadOnlyDictionary<string, string>? Params = null, int? Version = null);

/// <summary>
/// A tenant's automation settings. <c>Automation</c> off: nothing runs without a person.
/// <c>BlastRadiusPerHour</c>: remediations run without a person per hour, at most.
/// <c>ApprovalTtlSeconds</c>: how long an approval request waits before it expires.
/// </summary>
public sealed record PipelineSettingsResponse(bool Automation, int BlastRadiusPerHour, int ApprovalTtlSeconds, bool CustomTriageRules, string? UpdatedBy, DateTimeOffset? UpdatedAt);

public sealed record PipelineSettingsRequest(bool? Automation = null, int? BlastRadiusPerHour = null, int? ApprovalTtlSeconds = null);

/// <summary>The tenant's own triage rules as YAML (docs/pipeline.md); an empty string removes them.</summary>
public sealed record TriageRulesRequest(string Yaml);

/// <summary>One triage rule in the order they are tried: the tenant's first, then the built-in defaults.</summary>
public sealed record TriageRuleResponse(
    string Name,
    string Origin,
    string? Type,
    string? Source,
    IReadOnlyDictionary<string, string> Labels,
    string Recipe,
    IReadOnlyDictionary<string, string> Params,
    string Trust,
    IReadOnlyList<string>? Diagnose = null,
    IReadOnlyList<string>? Warnings = null);

public sealed record TriageRulesResponse(string? TenantYaml, IReadOnlyList<TriageRuleResponse> Rules);

/// <summary>A time during which nothing runs without a person (a deploy, a migration).</summary>
public sealed record ChangeWindowRequest(DateTimeOffset StartsAt, DateTimeOffset EndsAt, string Reason);

public sealed record ChangeWindowResponse(string Id, DateTimeOffset StartsAt, DateTimeOffset EndsAt, string Reason, string CreatedBy, DateTimeOffset CreatedAt, bool Active);
