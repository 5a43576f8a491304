namespace Medic.Contracts;

/// <summary>
/// A problem Medic knows about. <c>Status</c> moves through the pipeline (open … resolved);
/// <c>Occurrences</c> counts the distinct things that fired inside it (one per alert fingerprint
/// of a grouped alert), <c>SignalCount</c> every report received, repeats included.
/// </summary>
public sealed record IncidentResponse(
    string Id,
    string Status,
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
    string? Resolution);

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

/// <summary>One change on the live feed <c>/ws/incidents</c>: what happened (<c>Action</c>) and the incident as it now is.</summary>
public sealed record IncidentFeedMessage(string Action, IncidentResponse Incident);
