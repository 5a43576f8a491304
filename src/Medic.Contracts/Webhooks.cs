namespace Medic.Contracts;

/// <summary>What one accepted alert delivery did: how many alerts it carried and what became of them.</summary>
public sealed record WebhookDeliveryResponse(
    string Source,
    int Alerts,
    int Created,
    int Updated,
    int Reopened,
    int Resolved,
    int Ignored,
    IReadOnlyList<string> Incidents);

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
    IReadOnlyList<WebhookSourceResponse> Sources);

/// <summary><c>Overlap</c>: how long the old credentials keep working, e.g. <c>24h</c> (the default) or <c>0</c> for not at all.</summary>
public sealed record RotateWebhooksRequest(string? Overlap = null);
