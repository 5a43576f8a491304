using Medic.Contracts;

namespace Medic.Server.Incidents;

internal sealed class IncidentRow
{
    /// <summary>Reads incident rows with the server's name and the occurrence counts; the caller adds the WHERE and passes <c>firing = true</c>.</summary>
    public const string Select =
        "SELECT i.id, i.tenant_id, i.server_id, n.name AS server_name, i.source, i.type, i.severity, i.status, i.fingerprint, i.title, i.summary, i.labels, i.evidence, " +
        "i.signal_count, i.flapping, i.flap_window_start, i.flap_changes, i.first_seen_at, i.last_seen_at, i.acknowledged_by, i.acknowledged_at, i.resolved_at, i.resolution, i.updated_at, i.pipeline_round, i.group_key, " +
        "(SELECT COUNT(*) FROM incident_occurrences o WHERE o.incident_id = i.id) AS occurrences, " +
        "(SELECT COUNT(*) FROM incident_occurrences o WHERE o.incident_id = i.id AND o.firing = @firing) AS firing" +
        " FROM incidents i LEFT JOIN nodes n ON n.id = i.server_id AND n.tenant_id = i.tenant_id";

    public string Id { get; set; } = "";
    public string TenantId { get; set; } = "";
    public string? ServerId { get; set; }
    public string? ServerName { get; set; }
    public string Source { get; set; } = "";
    public string Type { get; set; } = "";
    public string Severity { get; set; } = "";
    /// <summary>The stored text of <see cref="StatusValue"/>, for Dapper: unknown text fails the read.</summary>
    public string Status { get => StatusValue.ToText(); set => StatusValue = StateText.Parse<IncidentStatus>(value); }

    public IncidentStatus StatusValue { get; set; }
    public string Fingerprint { get; set; } = "";
    public string Title { get; set; } = "";
    public string? Summary { get; set; }
    public string Labels { get; set; } = "{}";
    public string? Evidence { get; set; }
    public int SignalCount { get; set; }
    public int Occurrences { get; set; }
    public int Firing { get; set; }
    public bool Flapping { get; set; }
    public DateTimeOffset FlapWindowStart { get; set; }
    public int FlapChanges { get; set; }
    public DateTimeOffset FirstSeenAt { get; set; }
    public DateTimeOffset LastSeenAt { get; set; }
    public string? AcknowledgedBy { get; set; }
    public DateTimeOffset? AcknowledgedAt { get; set; }
    public DateTimeOffset? ResolvedAt { get; set; }
    public string? Resolution { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public int PipelineRound { get; set; }
    public string? GroupKey { get; set; }

    public IncidentResponse ToResponse() => new(
        Id, StatusValue, Severity, Source, Type, Title, Summary, ServerId, ServerName, Fingerprint,
        IncidentJson.Map(Labels) ?? new Dictionary<string, string>(), IncidentJson.Map(Evidence),
        Occurrences, Firing, SignalCount, Flapping, FirstSeenAt, LastSeenAt, AcknowledgedBy, AcknowledgedAt, ResolvedAt, Resolution, GroupKey);
}
