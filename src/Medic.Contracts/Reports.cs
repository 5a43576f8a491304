namespace Medic.Contracts;

/// <summary>
/// What Medic knows of one incident, start to end: the incident with its occurrences and
/// timeline, the evidence its sources sent, every remediation with its approvals and its run's
/// steps and output, the audit entries about the incident, its approvals and its runs, the
/// outcome and the durations. Built on demand from the stored records; <c>Outcome.Final</c> is
/// false while the incident is not resolved (the report of an open or escalated incident is not
/// its last word).
/// </summary>
public sealed record IncidentReport(
    IncidentResponse Incident,
    IReadOnlyList<IncidentOccurrenceResponse> Occurrences,
    IReadOnlyList<IncidentEventResponse> Timeline,
    IReadOnlyList<ReportEvidence> Evidence,
    IReadOnlyList<ReportRemediation> Remediations,
    IReadOnlyList<ReportAuditEntry> Audit,
    bool AuditTruncated,
    ReportOutcome Outcome,
    ReportDurations Durations,
    string Link,
    DateTimeOffset GeneratedAt,
    ReportNarrative? Narrative = null);

/// <summary>
/// The report's narrative, written by the AI agent holding the <c>report</c> role (absent without
/// one). <c>AiWritten</c> is always true: it is a model's account of the record, not the record;
/// <c>RunId</c> finds its run (<c>medic ai runs show</c>). <c>Text</c> is null when the run did not
/// finish (<c>Outcome</c> and <c>Note</c> say why); the rest of the report is the same either way.
/// </summary>
public sealed record ReportNarrative(
    bool AiWritten,
    string Agent,
    string RunId,
    string? Model,
    string Outcome,
    string? Text,
    string? Note,
    DateTimeOffset WrittenAt);

/// <summary>
/// What a source sent with one step of detection: <c>Kind</c> is the timeline event it came with
/// (opened, update, reopened, resolved), or <c>latest</c> for the incident's current evidence when
/// no event carries it.
/// </summary>
public sealed record ReportEvidence(string Kind, DateTimeOffset? At, string? Actor, IReadOnlyDictionary<string, string> Data);

/// <summary>One remediation with the approval requests made for it and the runbook run it became (null when it never ran).</summary>
public sealed record ReportRemediation(RemediationResponse Remediation, IReadOnlyList<ReportApproval> Approvals, RunbookRunResponse? Run);

/// <summary>An approval request as it was decided (or not): <c>Status</c> pending, approved, rejected, expired or cancelled.</summary>
public sealed record ReportApproval(
    string Id,
    string Status,
    string RequestedBy,
    string Reason,
    DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt,
    string? DecidedBy,
    DateTimeOffset? DecidedAt,
    string? Comment);

/// <summary>
/// An entry of the tenant's audit chain about this incident (its own, its approvals' and its runs').
/// <c>Seq</c> and <c>Hash</c> find it in the chain (<c>medic audit verify</c>); the caller's network
/// address stays in the audit log, which only admins read.
/// </summary>
public sealed record ReportAuditEntry(
    long Seq,
    string Id,
    DateTimeOffset At,
    string Actor,
    string Action,
    string Target,
    string Outcome,
    IReadOnlyDictionary<string, string> Details,
    string Hash);

/// <summary>
/// How it ended. <c>Status</c>: <c>resolved</c>, <c>escalated</c> (a person has to act) or
/// <c>open</c> (still being worked on, under its incident status). <c>ResolvedBy</c> for a resolved
/// one: <c>remediation</c> (a recipe ran and verification passed), <c>person</c> or <c>source</c>
/// (the detection source reported it over). <c>Final</c>: resolved, so the report is complete.
/// </summary>
public sealed record ReportOutcome(string Status, string? ResolvedBy, string Summary, string? Actor, DateTimeOffset? At, bool Final);

/// <summary>
/// The incident's durations, in seconds, each null when its end is not known (yet).
/// <list type="bullet">
/// <item><c>TimeToDetect</c>: from when the source says the problem started
/// (<c>ProblemStartedAt</c>: an alert's <c>starts_at</c>, PagerDuty's <c>occurred_at</c>,
/// Datadog's event <c>date</c>) to when Medic opened the incident (<c>DetectedAt</c>, its
/// <c>first_seen_at</c>). Null when the source gave no start time (agent monitors, checks,
/// patrols and people report the moment they noticed), and when the given start is later than
/// Medic's opening (the clocks disagree). <c>DetectionBasis</c> says which case applies.</item>
/// <item><c>TimeToAcknowledge</c>: <c>first_seen_at</c> to <c>acknowledged_at</c>.</item>
/// <item><c>TimeToResolve</c>: <c>first_seen_at</c> to <c>resolved_at</c>.</item>
/// </list>
/// </summary>
public sealed record ReportDurations(
    DateTimeOffset? ProblemStartedAt,
    DateTimeOffset DetectedAt,
    DateTimeOffset? AcknowledgedAt,
    DateTimeOffset? ResolvedAt,
    double? TimeToDetectSeconds,
    double? TimeToAcknowledgeSeconds,
    double? TimeToResolveSeconds,
    string DetectionBasis);
