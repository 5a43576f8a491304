namespace Medic.Contracts;

/// <summary>
/// What one accepted alert delivery did: how many alerts it carried and what became of them.
/// <c>Duplicates</c> counts redeliveries already folded; <c>Test</c> describes a sender's test
/// notification, which is recorded but opens no incident.
/// </summary>
public sealed record WebhookDeliveryResponse(
    string Source,
    int Alerts,
    int Created,
    int Updated,
    int Reopened,
    int Resolved,
    int Ignored,
    IReadOnlyList<string> Incidents,
    int Duplicates = 0,
    string? Test = null);

/// <summary>A rotated-out credential (signing_secret or bearer_token), still accepted until <c>ExpiresAt</c>.</summary>
public sealed record RetiredWebhookCredential(string Kind, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt);

/// <summary>One sender: the URL to post to, how it authenticates, and its configuration ready to paste.</summary>
public sealed record WebhookSourceResponse(string Source, string Url, string Auth, string Setup);

/// <summary>The tenant's webhook endpoints and credentials (admins only; shown by <c>medic webhooks show</c>).</summary>
public sealed record WebhooksResponse(
    string Tenant,
    string SigningSecret,
    string BearerToken,
    DateTimeOffset CreatedAt,
    IReadOnlyList<RetiredWebhookCredential> Retired,
    int RateLimitPerMinute,
    int MaxBodyBytes,
    IReadOnlyList<WebhookSourceResponse> Sources,
    IReadOnlyList<WebhookSourceCredentialResponse>? SourceCredentials = null);

/// <summary><c>Overlap</c>: how long the old credentials keep working, e.g. <c>24h</c> (the default) or <c>0</c> for not at all.</summary>
public sealed record RotateWebhooksRequest(string? Overlap = null);

/// <summary>
/// A declarative field mapping: JSON paths (<c>$.a.b[0]['c d']</c>) into any sender's payload.
/// <c>Alerts</c> names an array whose entries are the alerts (the other paths are then read from each
/// entry); without it the whole body is one alert. <c>Status</c>'s value is resolved when it is one of
/// <c>ResolvedValues</c>, else firing; without <c>Status</c> every delivery fires. <c>SeverityMap</c>
/// maps the sender's severity values to critical, warning or info.
/// </summary>
public sealed record WebhookMapping(
    string Title,
    string? Alerts = null,
    string? Fingerprint = null,
    string? Status = null,
    IReadOnlyList<string>? ResolvedValues = null,
    string? Severity = null,
    IReadOnlyDictionary<string, string>? SeverityMap = null,
    string? Host = null,
    string? Summary = null);

/// <summary>A tenant's mapped source: senders post to <c>Url</c> and their JSON is read by <c>Mapping</c>.</summary>
public sealed record WebhookMappingResponse(string Name, string Url, WebhookMapping Mapping, string UpdatedBy, DateTimeOffset UpdatedAt);

/// <summary>A credential an admin set for one source: <c>signing_secret</c> (the sender's own HMAC secret) or <c>basic_auth</c>. The secret itself is never shown again.</summary>
public sealed record WebhookSourceCredentialResponse(string Source, string Kind, string? Username, string CreatedBy, DateTimeOffset CreatedAt);

/// <summary>A signing secret the sender generated (PagerDuty's), for <c>PUT /api/v1/webhooks/sources/{source}/secret</c>.</summary>
public sealed record SetWebhookSecretRequest(string Secret);

/// <summary>HTTP basic auth the sender presents, for <c>PUT /api/v1/webhooks/sources/{source}/basic-auth</c>.</summary>
public sealed record SetWebhookBasicAuthRequest(string Username, string Password);

/// <summary>
/// One delivery as the source's log keeps it: when, the answer's status, the outcome (<c>accepted</c> or
/// the reason it was refused), the scheme that authenticated it, the client's address, how many alerts it
/// carried and the detail of a refusal. Never the body or a credential.
/// </summary>
public sealed record WebhookDeliveryEntry(DateTimeOffset At, int Status, WebhookOutcome Outcome, string? Auth, string? ClientAddress, int Alerts, string? Detail);

/// <summary>A source's last deliveries, newest first, and its refusals counted by reason since the first.</summary>
public sealed record WebhookDeliveriesResponse(string Source, IReadOnlyList<WebhookDeliveryEntry> Deliveries, IReadOnlyDictionary<string, long> Refusals, int Kept);

/// <summary>
/// A tenant's rule that gives alerts from webhooks an incident type, so triage rules written for that
/// type apply. Every field given must match: <c>Alertname</c> exactly, <c>AlertnameRegex</c> anywhere in
/// the alert name (the <c>alertname</c> label, or the title when a sender has none), each of <c>Labels</c>
/// exactly (<c>*</c>: the label is present), <c>Source</c> the sender. See docs/webhooks.md.
/// </summary>
public sealed record AlertTypeRule(
    string Type,
    string? Alertname = null,
    string? AlertnameRegex = null,
    IReadOnlyDictionary<string, string>? Labels = null,
    string? Source = null);

/// <summary>One classification rule: the tenant's own (tried first, by name) or a built-in one.</summary>
public sealed record AlertTypeRuleResponse(string Name, AlertTypeRule Rule, bool BuiltIn, string? UpdatedBy = null, DateTimeOffset? UpdatedAt = null);

/// <summary>An alert to classify without delivering it: <c>POST /api/v1/webhooks/types/test</c>.</summary>
public sealed record AlertTypeTestRequest(string? Alertname = null, string? Title = null, IReadOnlyDictionary<string, string>? Labels = null, string? Source = null);

/// <summary>What an alert would become: its type, the rule that decided it (null: none matched, the type is <c>alert</c>) and the labels added for triage.</summary>
public sealed record AlertTypeTestResponse(string Type, string? Rule, IReadOnlyDictionary<string, string> DerivedLabels);
