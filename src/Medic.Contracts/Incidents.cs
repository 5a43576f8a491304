namespace Medic.Contracts;

/// <summary>
/// A problem Medic knows about. <c>Status</c> moves through the pipeline (open … resolved);
/// <c>Occurrences</c> counts the distinct things that fired inside it (one per alert fingerprint
/// of a grouped alert), <c>SignalCount</c> every report received, repeats included.
/// </summary>
public sealed record IncidentResponse(
    string Id,
    IncidentStatus Status,
    string Severity,
    string Source,
    string Type,
    string Title,
    string? Summary,
    string? ServerId,
    string? Server,
    string Fingerprint,
    IReadOnlyDictionary<string, string> Labels,
    IReadOnlyDictionary<string, string>? Evidence,
    int Occurrences,
    int Firing,
    int SignalCount,
    bool Flapping,
    DateTimeOffset FirstSeenAt,
    DateTimeOffset LastSeenAt,
    string? AcknowledgedBy,
    DateTimeOffset? AcknowledgedAt,
    DateTimeOffset? ResolvedAt,
    string? Resolution,
    string? GroupKey = null);

public sealed record IncidentEventResponse(long Seq, DateTimeOffset At, string Kind, string Actor, string Message, IReadOnlyDictionary<string, string>? Data);

public sealed record IncidentOccurrenceResponse(string Occurrence, bool Firing, int SignalCount, DateTimeOffset FirstSeenAt, DateTimeOffset LastSeenAt);

public sealed record IncidentDetailResponse(IncidentResponse Incident, IReadOnlyList<IncidentOccurrenceResponse> Occurrences, IReadOnlyList<IncidentEventResponse> Timeline);

/// <summary>Newest first; pass <c>NextBefore</c> back as <c>before</c> for the next page.</summary>
public sealed record IncidentPage(IReadOnlyList<IncidentResponse> Items, string? NextBefore);

/// <summary>A manual incident. <c>Server</c> is a server name or id of the caller's tenant.</summary>
public sealed record CreateIncidentRequest(
    string Title,
    string? Severity = null,
    string? Server = null,
    string? Summary = null,
    string? Type = null,
    IReadOnlyDictionary<string, string>? Labels = null);

public sealed record IncidentCommentRequest(string? Comment = null);

/// <summary>A person's note on an incident's timeline.</summary>
public sealed record AddCommentRequest(string Text);

/// <summary>One change on the live feed <c>/ws/incidents</c>: what happened (<c>Action</c>) and the incident as it now is.</summary>
public sealed record IncidentFeedMessage(string Action, IncidentResponse Incident);

/// <summary>
/// A scheduled check run by the control plane. <c>Kind</c>: <c>http</c> (<c>Target</c> a URL;
/// <c>ExpectStatus</c>, default any 2xx/3xx; <c>BodyRegex</c>), <c>tcp</c> (<c>Target</c> host:port), or
/// <c>command</c> (<c>Command</c> run with sh -c on <c>Server</c>, through its agent or over SSH
/// for an agentless server; exit 0 passes). <c>Failures</c> consecutive failed runs open an
/// incident; the first pass after that resolves it.
/// </summary>
public sealed record CreateCheckRequest(
    string Name,
    string Kind,
    string? Target = null,
    string? Server = null,
    string? Command = null,
    int? ExpectStatus = null,
    string? BodyRegex = null,
    string? Interval = null,
    int? TimeoutSeconds = null,
    int? Failures = null,
    string? Severity = null);

public sealed record CheckResponse(
    string Id,
    string Name,
    string Kind,
    string? Target,
    string? Server,
    string? Command,
    int? ExpectStatus,
    string? BodyRegex,
    int IntervalSeconds,
    int TimeoutSeconds,
    int Failures,
    string Severity,
    CheckState State,
    int ConsecutiveFailures,
    DateTimeOffset? LastRunAt,
    string? LastDetail,
    DateTimeOffset NextRunAt,
    string CreatedBy,
    DateTimeOffset CreatedAt);

public sealed record CheckResultResponse(DateTimeOffset At, bool Ok, long DurationMs, string Detail);

public sealed record CheckDetailResponse(CheckResponse Check, IReadOnlyList<CheckResultResponse> Results);

/// <summary>
/// An agent monitor set on the control plane: for one <c>Server</c>, or for every server carrying
/// all of <c>Tags</c>. <c>Definition</c> is the monitor as in docs/monitors.md (durations in seconds);
/// its <c>name</c> is set from <c>Name</c>.
/// </summary>
public sealed record CreateMonitorRequest(string Name, Medic.Contracts.Agent.MonitorDefinition Definition, string? Server = null, IReadOnlyDictionary<string, string>? Tags = null);

public sealed record MonitorResponse(
    string Id,
    string Name,
    string Kind,
    string? Server,
    IReadOnlyDictionary<string, string>? Tags,
    Medic.Contracts.Agent.MonitorDefinition Definition,
    string CreatedBy,
    DateTimeOffset CreatedAt);
