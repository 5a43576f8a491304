namespace Medic.Server.Incidents;

/// <summary>
/// One observation from a detection source (agent monitor, alert webhook, scheduled check, patrol,
/// a person): "this problem is happening" or, with <see cref="Resolved"/>, "it is over". Signals
/// with the same tenant and <see cref="Fingerprint"/> fold into one open incident.
/// </summary>
/// <param name="Source">agent, alertmanager, grafana, datadog, pagerduty, zabbix, uptimekuma, generic (or a mapped source), check, patrol or manual.</param>
/// <param name="Fingerprint">Stable per problem within the tenant; the dedup key.</param>
/// <param name="Type">What kind of problem, e.g. service_down, disk_full, check_failed, alert.</param>
/// <param name="Severity">critical, warning or info.</param>
/// <param name="ServerId">The managed server's id when the source knows it.</param>
/// <param name="ServerHint">A host name or instance label (host:port) to match to a registered server when <paramref name="ServerId"/> is not known.</param>
/// <param name="Actor">Who reported it, for the timeline and audit: webhook:alertmanager, agent:NODE_ID, check:ID, system:patrol, user:NAME.</param>
/// <param name="Occurrence">
/// What fired inside the incident (for a grouped alert, the alert's own fingerprint); defaults to
/// <paramref name="Fingerprint"/>. The incident counts distinct occurrences and resolves when none is still firing.
/// </param>
/// <param name="Note">What the source did or learned about an open incident (the agent gave up restarting, say): a timeline event with the evidence.</param>
/// <param name="GroupKey">The sender's notification group (Alertmanager's groupKey, Datadog's aggregation key): kept on the incident, never its identity.</param>
/// <param name="DeliveryId">The sender's id of this delivery (PagerDuty's webhook event id): a signal whose id was already folded is a redelivery and changes nothing.</param>
internal sealed record IncidentSignal(
    string TenantId,
    string Source,
    string Fingerprint,
    string Type,
    string Severity,
    string Title,
    string? Summary,
    string? ServerId,
    string? ServerHint,
    IReadOnlyDictionary<string, string> Labels,
    IReadOnlyDictionary<string, string>? Evidence,
    bool Resolved,
    DateTimeOffset At,
    string Actor,
    string? Occurrence = null,
    string? Note = null,
    string? GroupKey = null,
    string? DeliveryId = null);

/// <summary>What became of one signal.</summary>
/// <param name="Action">What happened to the record: see <see cref="IngestAction"/>.</param>
/// <param name="SilencedBy">The silence that held the signal back: recorded on the incident, no pipeline round, no notification.</param>
/// <param name="NotifyAs">For an incident held by a silence that no longer matches: what to tell people it did (created or reopened).</param>
internal sealed record IngestOutcome(string? IncidentId, IngestAction Action, string? SilencedBy = null, string? NotifyAs = null);

/// <summary>The one way detection sources hand problems to the incident record.</summary>
internal interface IIncidentIngest
{
    /// <summary>Folds the signals into incidents in one transaction (all or nothing), in order.</summary>
    Task<IReadOnlyList<IngestOutcome>> IngestAsync(IReadOnlyList<IncidentSignal> signals, CancellationToken ct);
}

internal static class IncidentSources
{
    public const string Agent = "agent";
    public const string Alertmanager = "alertmanager";
    public const string Grafana = "grafana";
    public const string Datadog = "datadog";
    public const string PagerDuty = "pagerduty";
    public const string Generic = "generic";
    public const string Check = "check";
    public const string Patrol = "patrol";
    public const string Manual = "manual";

    public const string Zabbix = "zabbix";
    public const string UptimeKuma = "uptimekuma";

    public static readonly IReadOnlyList<string> Webhook = [Alertmanager, Grafana, Datadog, PagerDuty, Zabbix, UptimeKuma, Generic];

    /// <summary>Every built-in source; no tenant-defined (mapped) source may take one of these names.</summary>
    public static readonly IReadOnlyList<string> Reserved = [Agent, .. Webhook, Check, Patrol, Manual];

    /// <summary>Every built-in source, for validating filters (a tenant's mapped sources come on top).</summary>
    public static IReadOnlyList<string> All => Reserved;
}

/// <summary>The sources a tenant has defined itself (mapped webhook sources), so a filter can tell a typo from one of them.</summary>
internal interface ITenantSources
{
    Task<bool> ExistsAsync(string tenantId, string name, CancellationToken ct);
}

/// <summary>
/// Where the incident record hands a new round to the remediation pipeline: called inside the
/// transaction that opens, reopens or re-enters an incident, so the pipeline's first job exists
/// exactly when the incident does.
/// </summary>
internal interface IPipelineEntry
{
    Task EnterAsync(System.Data.Common.DbConnection c, System.Data.Common.DbTransaction tx, string tenantId, string incidentId, int round, string why);

    /// <summary>
    /// Called in the transaction that resolves the incident (a person's confirmation, say): a verification
    /// of this round that waits for it is made due now instead of at its next look.
    /// </summary>
    Task ResolvedAsync(System.Data.Common.DbConnection c, System.Data.Common.DbTransaction tx, string incidentId, int round);

    /// <summary>Called after the transaction that entered a round committed.</summary>
    void Committed();
}

/// <summary>
/// Told of every change to an incident inside the transaction that makes it (the notifier plans
/// deliveries there, so they commit with the change). <c>Action</c>: created, updated, reopened,
/// resolved, noted, acknowledged.
/// </summary>
internal interface IIncidentChanges
{
    Task ChangedAsync(System.Data.Common.DbConnection c, System.Data.Common.DbTransaction tx, string tenantId, string action, Medic.Contracts.IncidentResponse incident);
}
