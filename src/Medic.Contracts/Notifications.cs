namespace Medic.Contracts;

/// <summary>
/// A place where a tenant's people are told about incidents. <c>Kind</c>: <c>slack</c>, <c>teams</c>,
/// <c>discord</c> (<c>Url</c>: the incoming webhook URL, stored sealed), <c>telegram</c> (<c>Secret</c>: the
/// bot token, <c>ChatId</c>), <c>email</c> (<c>SmtpHost</c>, <c>SmtpPort</c>, <c>From</c>, <c>To</c>; optional
/// <c>SmtpUsername</c> with the password in <c>Secret</c>, <c>StartTls</c>), <c>webhook</c> (<c>Url</c>, and
/// <c>Secret</c> to sign deliveries with HMAC-SHA256) or <c>pagerduty</c> (<c>Secret</c>: the Events API v2
/// routing key). <c>ApiUrl</c> overrides the API base of telegram and pagerduty (a proxy, a test receiver).
/// </summary>
public sealed record CreateNotificationChannelRequest(
    string Name,
    string Kind,
    string? Url = null,
    string? Secret = null,
    string? ApiUrl = null,
    string? ChatId = null,
    string? SmtpHost = null,
    int? SmtpPort = null,
    string? SmtpUsername = null,
    bool? StartTls = null,
    string? From = null,
    IReadOnlyList<string>? To = null);

/// <summary>A channel as the API shows it: never a secret; <c>Target</c> says where it goes without one, <c>StoredSecrets</c> names the sealed fields.</summary>
public sealed record NotificationChannelResponse(
    string Id,
    string Name,
    string Kind,
    string Target,
    IReadOnlyList<string> StoredSecrets,
    string CreatedBy,
    DateTimeOffset CreatedAt);

/// <summary>The outcome of <c>POST /api/v1/notification-channels/{id}/test</c>: whether the receiver accepted the test message, and what it said if not.</summary>
public sealed record NotificationTestResponse(string Channel, bool Delivered, string Detail);

/// <summary>
/// Which incidents go to which channels. An incident matches when its severity is at least
/// <c>MinSeverity</c> (default info: all), it carries every label in <c>Labels</c>, and its source and
/// server equal <c>Source</c> and <c>Server</c> when given. <c>Events</c>: any of opened, escalated,
/// resolved, acknowledged, approval_requested (default all). Open incidents of at least
/// <c>RenotifySeverity</c> (default critical) are sent again every <c>RenotifyEvery</c> (default 30m;
/// <c>off</c> never) until acknowledged or resolved.
/// </summary>
public sealed record CreateNotificationRuleRequest(
    string Name,
    IReadOnlyList<string> Channels,
    string? MinSeverity = null,
    IReadOnlyDictionary<string, string>? Labels = null,
    string? Source = null,
    string? Server = null,
    IReadOnlyList<string>? Events = null,
    string? RenotifyEvery = null,
    string? RenotifySeverity = null);

public sealed record NotificationRuleResponse(
    string Id,
    string Name,
    IReadOnlyList<string> Channels,
    string MinSeverity,
    IReadOnlyDictionary<string, string> Labels,
    string? Source,
    string? Server,
    IReadOnlyList<string> Events,
    int RenotifyEverySeconds,
    string RenotifySeverity,
    string CreatedBy,
    DateTimeOffset CreatedAt);

/// <summary>
/// One message to one channel. <c>Status</c>: pending (queued), retrying (an attempt failed; retried
/// with backoff), sent (the receiver accepted it), dead (out of attempts; <c>LastError</c> says why) or
/// damped (not sent: the incident is flapping and was notified within the damping window).
/// </summary>
public sealed record NotificationDeliveryResponse(
    string Id,
    string? IncidentId,
    string? ApprovalId,
    string ChannelId,
    string Channel,
    string Kind,
    string Event,
    DeliveryStatus Status,
    int Attempts,
    string? LastError,
    DateTimeOffset CreatedAt,
    DateTimeOffset? SentAt);
