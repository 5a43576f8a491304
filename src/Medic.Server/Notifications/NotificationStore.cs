using System.Data.Common;
using System.Text.Json;
using System.Text.Json.Serialization;
using Dapper;
using Medic.Contracts;
using Medic.Server.Storage;

namespace Medic.Server.Notifications;

internal sealed class NotificationChannelRow
{
    public string Id { get; set; } = "";
    public string TenantId { get; set; } = "";
    public string Name { get; set; } = "";
    public string Kind { get; set; } = "";

    /// <summary>JSON of <see cref="ChannelSettings"/>: what is not secret.</summary>
    public string Settings { get; set; } = "{}";

    /// <summary><see cref="Secrets.SecretBox"/>-sealed JSON of <see cref="ChannelSecrets"/>, bound to the tenant and channel id.</summary>
    public string? SealedSecrets { get; set; }

    public string CreatedBy { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? RemovedAt { get; set; }

    public ChannelSettings SettingsValue => JsonSerializer.Deserialize(Settings, NotificationJson.Default.ChannelSettings) ?? new ChannelSettings();

    public static string SecretsAssociatedData(string tenantId, string channelId) => $"notification-channel:{tenantId}:{channelId}";

    public NotificationChannelResponse ToResponse()
    {
        var s = SettingsValue;
        return new(Id, Name, Kind, s.Target ?? Kind, s.StoredSecrets ?? [], CreatedBy, CreatedAt);
    }
}

/// <summary>A channel's settings that may be shown: where it goes, without any secret.</summary>
internal sealed class ChannelSettings
{
    public string? Url { get; set; }
    public string? ApiUrl { get; set; }
    public string? ChatId { get; set; }
    public string? SmtpHost { get; set; }
    public int? SmtpPort { get; set; }
    public string? SmtpUsername { get; set; }
    public bool StartTls { get; set; }
    public string? From { get; set; }
    public List<string>? To { get; set; }

    /// <summary>A description for lists: a host, a chat, a mailbox; never a secret.</summary>
    public string? Target { get; set; }

    public List<string>? StoredSecrets { get; set; }
}

/// <summary>A channel's secrets, sealed at rest: webhook URLs of chat services (they carry their token), bot tokens, routing keys, passwords, signing secrets.</summary>
internal sealed class ChannelSecrets
{
    public string? Url { get; set; }
    public string? Secret { get; set; }
}

internal sealed class NotificationRuleRow
{
    public string Id { get; set; } = "";
    public string TenantId { get; set; } = "";
    public string Name { get; set; } = "";
    public string MinSeverity { get; set; } = "";
    public string Labels { get; set; } = "{}";
    public string? Source { get; set; }
    public string? Server { get; set; }
    public string Events { get; set; } = "[]";
    public string Channels { get; set; } = "[]";
    public int RenotifySeconds { get; set; }
    public string RenotifySeverity { get; set; } = "";
    public string CreatedBy { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }

    public IReadOnlyDictionary<string, string> LabelMap => JsonSerializer.Deserialize(Labels, NotificationJson.Default.DictionaryStringString) ?? [];

    public IReadOnlyList<string> EventList => JsonSerializer.Deserialize(Events, NotificationJson.Default.ListString) ?? [];

    public IReadOnlyList<string> ChannelIds => JsonSerializer.Deserialize(Channels, NotificationJson.Default.ListString) ?? [];

    public NotificationRuleResponse ToResponse(IReadOnlyDictionary<string, string> channelNames) => new(
        Id, Name, ChannelIds.Select(id => channelNames.GetValueOrDefault(id, id)).ToList(), MinSeverity, LabelMap, Source, Server, EventList,
        RenotifySeconds, RenotifySeverity, CreatedBy, CreatedAt);
}

internal sealed class DeliveryRow
{
    public string Id { get; set; } = "";
    public string TenantId { get; set; } = "";
    public string IdempotencyKey { get; set; } = "";
    public string? IncidentId { get; set; }
    public string? ApprovalId { get; set; }
    public string ChannelId { get; set; } = "";
    public string Channel { get; set; } = "";
    public string Kind { get; set; } = "";
    public string Event { get; set; } = "";
    /// <summary>The stored text of <see cref="StatusValue"/>, for Dapper: unknown text fails the read.</summary>
    public string Status { get => StatusValue.ToText(); set => StatusValue = StateText.Parse<DeliveryStatus>(value); }

    public DeliveryStatus StatusValue { get; set; }
    public int Attempts { get; set; }
    public string? LastError { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? SentAt { get; set; }

    public NotificationDeliveryResponse ToResponse() => new(Id, IncidentId, ApprovalId, ChannelId, Channel, Kind, Event, StatusValue, Attempts, LastError, CreatedAt, SentAt);
}

/// <summary>Channels, rules, the delivery log and per-incident notify state. Every query is scoped by tenant.</summary>
internal sealed class NotificationStore(Database db)
{
    private const string ChannelColumns = "id, tenant_id, name, kind, settings, sealed_secrets, created_by, created_at";
    private const string RuleColumns = "id, tenant_id, name, min_severity, labels, source, server, events, channels, renotify_seconds, renotify_severity, created_by, created_at";

    public static Task InsertChannelAsync(DbConnection c, DbTransaction tx, NotificationChannelRow r) => c.ExecuteAsync(
        "INSERT INTO notification_channels (id, tenant_id, name, kind, settings, sealed_secrets, created_by, created_at) " +
        "VALUES (@Id, @TenantId, @Name, @Kind, @Settings, @SealedSecrets, @CreatedBy, @CreatedAt)", r, tx);

    public static Task<NotificationChannelRow?> FindChannelAsync(DbConnection c, DbTransaction? tx, string tenantId, string idOrName) =>
        c.QuerySingleOrDefaultAsync<NotificationChannelRow>(
            $"SELECT {ChannelColumns} FROM notification_channels WHERE tenant_id = @tenantId AND removed_at IS NULL AND (id = @idOrName OR name = @idOrName)",
            new { tenantId, idOrName }, tx);

    /// <summary>A channel by id, removed or not (a queued delivery finds out its channel is gone).</summary>
    public async Task<NotificationChannelRow?> ChannelByIdAsync(string tenantId, string id, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<NotificationChannelRow>(
            $"SELECT {ChannelColumns}, removed_at FROM notification_channels WHERE tenant_id = @tenantId AND id = @id", new { tenantId, id });
    }

    public async Task<NotificationChannelRow?> FindChannelAsync(string tenantId, string idOrName, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await FindChannelAsync(c, null, tenantId, idOrName);
    }

    public async Task<IReadOnlyList<NotificationChannelRow>> ChannelsAsync(string tenantId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<NotificationChannelRow>(
            $"SELECT {ChannelColumns} FROM notification_channels WHERE tenant_id = @tenantId AND removed_at IS NULL ORDER BY name", new { tenantId })).ToList();
    }

    public static Task RemoveChannelAsync(DbConnection c, DbTransaction tx, string tenantId, string id, DateTimeOffset at) =>
        c.ExecuteAsync("UPDATE notification_channels SET removed_at = @at WHERE tenant_id = @tenantId AND id = @id AND removed_at IS NULL", new { tenantId, id, at }, tx);

    public static Task InsertRuleAsync(DbConnection c, DbTransaction tx, NotificationRuleRow r) => c.ExecuteAsync(
        "INSERT INTO notification_rules (id, tenant_id, name, min_severity, labels, source, server, events, channels, renotify_seconds, renotify_severity, created_by, created_at) " +
        "VALUES (@Id, @TenantId, @Name, @MinSeverity, @Labels, @Source, @Server, @Events, @Channels, @RenotifySeconds, @RenotifySeverity, @CreatedBy, @CreatedAt)", r, tx);

    public static async Task<IReadOnlyList<NotificationRuleRow>> RulesAsync(DbConnection c, DbTransaction? tx, string tenantId) =>
        (await c.QueryAsync<NotificationRuleRow>(
            $"SELECT {RuleColumns} FROM notification_rules WHERE tenant_id = @tenantId AND removed_at IS NULL ORDER BY name", new { tenantId }, tx)).ToList();

    public async Task<IReadOnlyList<NotificationRuleRow>> RulesAsync(string tenantId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await RulesAsync(c, null, tenantId);
    }

    public static Task<NotificationRuleRow?> FindRuleAsync(DbConnection c, DbTransaction? tx, string tenantId, string idOrName) =>
        c.QuerySingleOrDefaultAsync<NotificationRuleRow>(
            $"SELECT {RuleColumns} FROM notification_rules WHERE tenant_id = @tenantId AND removed_at IS NULL AND (id = @idOrName OR name = @idOrName)",
            new { tenantId, idOrName }, tx);

    public async Task<NotificationRuleRow?> FindRuleAsync(string tenantId, string idOrName, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await FindRuleAsync(c, null, tenantId, idOrName);
    }

    public static Task RemoveRuleAsync(DbConnection c, DbTransaction tx, string tenantId, string id, DateTimeOffset at) =>
        c.ExecuteAsync("UPDATE notification_rules SET removed_at = @at WHERE tenant_id = @tenantId AND id = @id AND removed_at IS NULL", new { tenantId, id, at }, tx);

    /// <summary>Tenants with at least one rule: the ones whose incident changes are worth watching.</summary>
    public async Task<IReadOnlyList<string>> TenantsWithRulesAsync(CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<string>("SELECT DISTINCT tenant_id FROM notification_rules WHERE removed_at IS NULL")).ToList();
    }

    /// <summary>Adds a delivery to the log unless one with the same key exists; returns whether it was added.</summary>
    internal static async Task<bool> InsertDeliveryAsync(DbConnection c, DbTransaction tx, DeliveryRow r) => await c.ExecuteAsync(
        "INSERT INTO notification_deliveries (id, tenant_id, idempotency_key, incident_id, approval_id, channel_id, event, status, attempts, last_error, created_at) " +
        "VALUES (@Id, @TenantId, @IdempotencyKey, @IncidentId, @ApprovalId, @ChannelId, @Event, @Status, @Attempts, @LastError, @CreatedAt) ON CONFLICT (idempotency_key) DO NOTHING",
        r, tx) == 1;

    internal async Task<DeliveryRow?> DeliveryAsync(string tenantId, string id, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<DeliveryRow>(DeliverySelect + " WHERE d.tenant_id = @tenantId AND d.id = @id", new { tenantId, id });
    }

    /// <summary>Records the outcome of one attempt. A sent delivery stays sent: a late failure report from a worker that lost its lease cannot undo it.</summary>
    public Task RecordAttemptAsync(string id, DeliveryStatus status, int attempts, string? error, DateTimeOffset at, CancellationToken ct) => db.WriteAsync((c, tx) => c.ExecuteAsync(
        "UPDATE notification_deliveries SET status = @status, attempts = @attempts, last_error = @error, sent_at = @sentAt WHERE id = @id AND status <> @sent",
        new { id, status = status.ToText(), attempts, error, sentAt = status == DeliveryStatus.Sent ? at : (DateTimeOffset?)null, sent = DeliveryStatus.Sent.ToText() }, tx), ct);

    private const string DeliverySelect =
        "SELECT d.id, d.tenant_id, d.idempotency_key, d.incident_id, d.approval_id, d.channel_id, ch.name AS channel, ch.kind, d.event, d.status, d.attempts, d.last_error, d.created_at, d.sent_at " +
        "FROM notification_deliveries d JOIN notification_channels ch ON ch.id = d.channel_id AND ch.tenant_id = d.tenant_id";

    /// <summary>Newest first.</summary>
    public async Task<IReadOnlyList<NotificationDeliveryResponse>> DeliveriesAsync(string tenantId, string? incidentId, int limit, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var rows = await c.QueryAsync<DeliveryRow>(
            DeliverySelect + " WHERE d.tenant_id = @tenantId" + (incidentId is null ? "" : " AND d.incident_id = @incidentId") + " ORDER BY d.id DESC LIMIT @limit",
            new { tenantId, incidentId, limit });
        return rows.Select(r => r.ToResponse()).ToList();
    }

    public static Task<IncidentNotifyState?> StateAsync(DbConnection c, DbTransaction? tx, string tenantId, string incidentId) =>
        c.QuerySingleOrDefaultAsync<IncidentNotifyState>(
            "SELECT incident_id, tenant_id, episode, episode_started_at, status, acknowledged, last_notified_at, updated_at FROM notification_incident_state WHERE tenant_id = @tenantId AND incident_id = @incidentId",
            new { tenantId, incidentId }, tx);

    public async Task<IncidentNotifyState?> StateAsync(string tenantId, string incidentId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await StateAsync(c, null, tenantId, incidentId);
    }

    public static Task SaveStateAsync(DbConnection c, DbTransaction tx, IncidentNotifyState s) => c.ExecuteAsync(
        "INSERT INTO notification_incident_state (incident_id, tenant_id, episode, episode_started_at, status, acknowledged, last_notified_at, updated_at) " +
        "VALUES (@IncidentId, @TenantId, @Episode, @EpisodeStartedAt, @Status, @Acknowledged, @LastNotifiedAt, @UpdatedAt) " +
        "ON CONFLICT (incident_id) DO UPDATE SET episode = excluded.episode, episode_started_at = excluded.episode_started_at, status = excluded.status, " +
        "acknowledged = excluded.acknowledged, last_notified_at = excluded.last_notified_at, updated_at = excluded.updated_at", s, tx);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ChannelSettings))]
[JsonSerializable(typeof(ChannelSecrets))]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(List<string>))]
[JsonSerializable(typeof(DeliveryJob))]
[JsonSerializable(typeof(ReminderJob))]
internal sealed partial class NotificationJson : JsonSerializerContext;
