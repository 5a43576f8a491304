using System.Collections.Concurrent;
using System.Data.Common;
using System.Globalization;
using Dapper;
using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Common;
using Medic.Server.Secrets;
using Medic.Server.Storage;

namespace Medic.Server.Detection.Webhooks;

/// <summary>The credentials an admin sees: the current pair and when each rotated-out one stops working.</summary>
internal sealed record WebhookCredentialsView(
    string SigningSecret,
    string BearerToken,
    DateTimeOffset CreatedAt,
    IReadOnlyList<RetiredWebhookCredential> Retired);

/// <summary>What a delivery needs to know about its tenant, read in one query and cached briefly.</summary>
internal sealed record WebhookTenant(string TenantId, WebhookCredentialSet Credentials);

/// <summary>
/// Each tenant's webhook signing secret and bearer token, sealed with the master key in
/// <c>webhook_credentials</c>, created the first time an admin asks for them. Rotation keeps the
/// old pair working for an overlap window so senders can be switched without dropping alerts.
/// Deliveries read a tenant's valid credentials through a cache of a few seconds; a rotation clears
/// this process's cache at once (another replica sees it within <see cref="CacheFor"/>).
/// </summary>
internal sealed partial class WebhookCredentialStore(Database db, SecretBox box, AuditLog audit, TimeProvider time, ILogger<WebhookCredentialStore> log)
{
    public const string SigningSecretKind = "signing_secret";
    public const string BearerTokenKind = "bearer_token";
    public const string BasicAuthKind = "basic_auth";
    public const string SecretPrefix = "mws_";
    public const string TokenPrefix = "mwt_";

    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(5);
    private const int CacheCapacity = 10_000;

    private readonly ConcurrentDictionary<string, CachedTenant> _bySlug = new(StringComparer.Ordinal);

    /// <summary>
    /// The tenant with this slug and the credentials valid now for <paramref name="source"/>: the tenant's
    /// (none before an admin first asks) and any an admin set for the source; null when no tenant has the slug.
    /// </summary>
    public async Task<WebhookTenant?> FindAsync(string slug, string source, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (!_bySlug.TryGetValue(slug, out var cached) || cached.Until <= now)
        {
            cached = await LoadAsync(slug, now, ct);
            if (cached is null)
            {
                return null;
            }

            if (_bySlug.Count >= CacheCapacity) _bySlug.Clear();
            _bySlug[slug] = cached;
        }

        // Expiry is checked on every use, so a cached credential stops working the moment its overlap ends.
        bool Valid(Credential c) => c.ExpiresAt is null || c.ExpiresAt > now;
        var own = cached.SourceCredentials.Where(c => c.Source == source).ToList();
        return new WebhookTenant(cached.TenantId, new WebhookCredentialSet(
            [.. cached.Credentials.Where(c => c.Kind == SigningSecretKind && Valid(c)).Select(c => c.Value), .. own.Where(c => c.Kind == SigningSecretKind).Select(c => c.Value)],
            [.. cached.Credentials.Where(c => c.Kind == BearerTokenKind && Valid(c)).Select(c => c.Value)],
            [.. own.Where(c => c.Kind == BasicAuthKind).Select(c => BasicAuth(c.Value))]));
    }

    /// <summary>Sealed as <c>user:password</c>; a user name cannot hold a colon (RFC 7617).</summary>
    private static WebhookBasicAuth BasicAuth(string sealedValue)
    {
        var colon = sealedValue.IndexOf(':', StringComparison.Ordinal);
        return new WebhookBasicAuth(sealedValue[..colon], sealedValue[(colon + 1)..]);
    }

    private async Task<CachedTenant?> LoadAsync(string slug, DateTimeOffset now, CancellationToken ct)
    {
        List<CredentialRow> rows;
        await using (var c = await db.OpenAsync(ct))
        {
            rows = (await c.QueryAsync<CredentialRow>(
                """
                SELECT t.id AS tenant_id, w.id, w.kind, w.sealed, w.created_at, w.expires_at
                FROM tenants t LEFT JOIN webhook_credentials w ON w.tenant_id = t.id AND (w.expires_at IS NULL OR w.expires_at > @now)
                WHERE t.slug = @slug
                """, new { slug, now })).ToList();
        }

        if (rows.Count == 0)
        {
            return null;
        }

        var credentials = new List<Credential>();
        foreach (var row in rows.Where(r => r.Id is not null))
        {
            if (Open(row) is { } value) credentials.Add(new Credential(row.Kind!, value, row.ExpiresAt));
        }

        List<SourceCredentialRow> sourceRows;
        await using (var c = await db.OpenAsync(ct))
        {
            sourceRows = (await c.QueryAsync<SourceCredentialRow>(
                "SELECT id, tenant_id, source, kind, sealed, created_by, created_at FROM webhook_source_credentials WHERE tenant_id = @tenantId",
                new { tenantId = rows[0].TenantId })).ToList();
        }

        var sourceCredentials = new List<SourceCredential>();
        foreach (var row in sourceRows)
        {
            if (Open(row) is { } value) sourceCredentials.Add(new SourceCredential(row.Source, row.Kind, value));
        }

        return new CachedTenant(rows[0].TenantId, credentials, sourceCredentials, now + CacheFor);
    }

    /// <summary>
    /// Sets the source's credential of <paramref name="kind"/> (a signing secret, or basic auth as
    /// <c>user:password</c>), replacing the one set before; audited without the value.
    /// </summary>
    public async Task<WebhookSourceCredentialResponse> SetSourceCredentialAsync(string tenantId, string source, string kind, string value, string? username,
        string actor, string? clientAddress, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var id = Ids.New("whs");
        await db.WriteAsync(async (c, tx) =>
        {
            await c.ExecuteAsync("DELETE FROM webhook_source_credentials WHERE tenant_id = @tenantId AND source = @source AND kind = @kind", new { tenantId, source, kind }, tx);
            await c.ExecuteAsync(
                "INSERT INTO webhook_source_credentials (id, tenant_id, source, kind, sealed, created_by, created_at) VALUES (@id, @tenantId, @source, @kind, @sealed, @actor, @now)",
                new { id, tenantId, source, kind, @sealed = box.Seal(value, SourceAssociatedData(tenantId, source, kind, id)), actor, now }, tx);
            var details = new Dictionary<string, string> { ["source"] = source, ["kind"] = kind };
            if (username is not null) details["username"] = username;
            await audit.AppendAsync(c, tx, new AuditRecord(tenantId, actor, "webhooks.source_credential.set", "webhook:" + source, AuditOutcomes.Success, clientAddress, details));
        }, ct);
        _bySlug.Clear();
        return new WebhookSourceCredentialResponse(source, kind, username, actor, now);
    }

    /// <summary>Removes the source's credential of <paramref name="kind"/>; false when none was set.</summary>
    public async Task<bool> ClearSourceCredentialAsync(string tenantId, string source, string kind, string actor, string? clientAddress, CancellationToken ct)
    {
        var removed = await db.WriteAsync(async (c, tx) =>
        {
            var count = await c.ExecuteAsync("DELETE FROM webhook_source_credentials WHERE tenant_id = @tenantId AND source = @source AND kind = @kind", new { tenantId, source, kind }, tx);
            if (count > 0)
            {
                await audit.AppendAsync(c, tx, new AuditRecord(tenantId, actor, "webhooks.source_credential.clear", "webhook:" + source, AuditOutcomes.Success, clientAddress,
                    new Dictionary<string, string> { ["source"] = source, ["kind"] = kind }));
            }

            return count > 0;
        }, ct);
        _bySlug.Clear();
        return removed;
    }

    /// <summary>The credentials admins set per source, without their values (a basic auth's user name is shown).</summary>
    public async Task<IReadOnlyList<WebhookSourceCredentialResponse>> SourceCredentialsAsync(string tenantId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var rows = await c.QueryAsync<SourceCredentialRow>(
            "SELECT id, tenant_id, source, kind, sealed, created_by, created_at FROM webhook_source_credentials WHERE tenant_id = @tenantId ORDER BY source, kind", new { tenantId });
        return rows.Select(r => new WebhookSourceCredentialResponse(r.Source, r.Kind, r.Kind == BasicAuthKind && Open(r) is { } v ? BasicAuth(v).Username : null, r.CreatedBy, r.CreatedAt)).ToList();
    }

    /// <summary>The tenant's credentials, created (and audited) on first use.</summary>
    public async Task<WebhookCredentialsView> EnsureAsync(string tenantId, string actor, string? clientAddress, CancellationToken ct)
    {
        var view = await db.WriteAsync(async (c, tx) =>
        {
            await LockTenantAsync(c, tx, tenantId);
            var now = time.GetUtcNow();
            var current = await CurrentAsync(c, tx, tenantId, now);
            if (current is not null)
            {
                return current;
            }

            var created = await InsertPairAsync(c, tx, tenantId, now);
            await audit.AppendAsync(c, tx, new AuditRecord(tenantId, actor, "webhooks.credentials.create", "webhooks", AuditOutcomes.Success, clientAddress));
            return created;
        }, ct);
        return view;
    }

    /// <summary>
    /// Replaces the current pair; the old one keeps working until now + <paramref name="overlap"/>
    /// (at once when zero). Credentials whose overlap already ended are deleted.
    /// </summary>
    public async Task<WebhookCredentialsView> RotateAsync(string tenantId, TimeSpan overlap, string actor, string? clientAddress, CancellationToken ct)
    {
        var view = await db.WriteAsync(async (c, tx) =>
        {
            await LockTenantAsync(c, tx, tenantId);
            var now = time.GetUtcNow();
            await c.ExecuteAsync("DELETE FROM webhook_credentials WHERE tenant_id = @tenantId AND expires_at IS NOT NULL AND expires_at <= @now", new { tenantId, now }, tx);
            var until = now + overlap;
            var retired = await c.ExecuteAsync("UPDATE webhook_credentials SET expires_at = @until WHERE tenant_id = @tenantId AND expires_at IS NULL", new { tenantId, until }, tx);
            if (overlap == TimeSpan.Zero)
            {
                await c.ExecuteAsync("DELETE FROM webhook_credentials WHERE tenant_id = @tenantId AND expires_at <= @now", new { tenantId, now }, tx);
            }

            var created = await InsertPairAsync(c, tx, tenantId, now);
            await audit.AppendAsync(c, tx, new AuditRecord(tenantId, actor, "webhooks.credentials.rotate", "webhooks", AuditOutcomes.Success, clientAddress,
                new Dictionary<string, string>
                {
                    ["overlap"] = overlap == TimeSpan.Zero ? "0" : Durations.Format(overlap),
                    ["old_accepted_until"] = retired == 0 ? "none" : AuditChain.FormatTime(until),
                }));
            return created;
        }, ct);
        _bySlug.Clear();
        return view;
    }

    /// <summary>Concurrent first uses and rotations of one tenant queue here (SQLite's write lock already serializes them).</summary>
    private Task LockTenantAsync(DbConnection c, DbTransaction tx, string tenantId) =>
        c.ExecuteScalarAsync<string>("SELECT id FROM tenants WHERE id = @tenantId" + db.Dialect.ForUpdate, new { tenantId }, tx);

    private async Task<WebhookCredentialsView?> CurrentAsync(DbConnection c, DbTransaction tx, string tenantId, DateTimeOffset now)
    {
        var rows = (await c.QueryAsync<CredentialRow>(
            "SELECT tenant_id, id, kind, sealed, created_at, expires_at FROM webhook_credentials WHERE tenant_id = @tenantId AND (expires_at IS NULL OR expires_at > @now) ORDER BY created_at",
            new { tenantId, now }, tx)).ToList();
        var secret = rows.FirstOrDefault(r => r.Kind == SigningSecretKind && r.ExpiresAt is null);
        var token = rows.FirstOrDefault(r => r.Kind == BearerTokenKind && r.ExpiresAt is null);
        if (secret is null || token is null || Open(secret) is not { } secretValue || Open(token) is not { } tokenValue)
        {
            return null;
        }

        var retired = rows.Where(r => r.ExpiresAt is not null).Select(r => new RetiredWebhookCredential(r.Kind!, r.CreatedAt, r.ExpiresAt!.Value)).ToList();
        return new WebhookCredentialsView(secretValue, tokenValue, secret.CreatedAt, retired);
    }

    private async Task<WebhookCredentialsView> InsertPairAsync(DbConnection c, DbTransaction tx, string tenantId, DateTimeOffset now)
    {
        // A current credential that cannot be opened (the master key was replaced) is retired, not reused.
        await c.ExecuteAsync("UPDATE webhook_credentials SET expires_at = @now WHERE tenant_id = @tenantId AND expires_at IS NULL", new { tenantId, now }, tx);
        var secret = SecretPrefix + Ids.Secret(32);
        var token = TokenPrefix + Ids.Secret(32);
        foreach (var (kind, value) in new[] { (SigningSecretKind, secret), (BearerTokenKind, token) })
        {
            var id = Ids.New("whc");
            await c.ExecuteAsync(
                "INSERT INTO webhook_credentials (id, tenant_id, kind, sealed, created_at, expires_at) VALUES (@id, @tenantId, @kind, @sealed, @now, NULL)",
                new { id, tenantId, kind, @sealed = box.Seal(value, AssociatedData(tenantId, kind, id)), now }, tx);
        }

        var retired = (await c.QueryAsync<CredentialRow>(
            "SELECT tenant_id, id, kind, sealed, created_at, expires_at FROM webhook_credentials WHERE tenant_id = @tenantId AND expires_at > @now ORDER BY created_at",
            new { tenantId, now }, tx)).Select(r => new RetiredWebhookCredential(r.Kind!, r.CreatedAt, r.ExpiresAt!.Value)).ToList();
        return new WebhookCredentialsView(secret, token, now, retired);
    }

    private string? Open(CredentialRow row)
    {
        var value = box.Open(row.Sealed!, AssociatedData(row.TenantId, row.Kind!, row.Id!));
        if (value is null)
        {
            LogUnreadable(log, row.Id!, row.TenantId);
        }

        return value;
    }

    private string? Open(SourceCredentialRow row)
    {
        var value = box.Open(row.Sealed, SourceAssociatedData(row.TenantId, row.Source, row.Kind, row.Id));
        if (value is null)
        {
            LogUnreadable(log, row.Id, row.TenantId);
        }

        return value;
    }

    private static string SourceAssociatedData(string tenantId, string source, string kind, string id) =>
        string.Create(CultureInfo.InvariantCulture, $"webhook_source_credentials/{tenantId}/{source}/{kind}/{id}");

    private static string AssociatedData(string tenantId, string kind, string id) => string.Create(CultureInfo.InvariantCulture, $"webhook_credentials/{tenantId}/{kind}/{id}");

    private sealed record Credential(string Kind, string Value, DateTimeOffset? ExpiresAt);

    private sealed record SourceCredential(string Source, string Kind, string Value);

    private sealed record CachedTenant(string TenantId, IReadOnlyList<Credential> Credentials, IReadOnlyList<SourceCredential> SourceCredentials, DateTimeOffset Until);

    private sealed class SourceCredentialRow
    {
        public string Id { get; set; } = "";
        public string TenantId { get; set; } = "";
        public string Source { get; set; } = "";
        public string Kind { get; set; } = "";
        public string Sealed { get; set; } = "";
        public string CreatedBy { get; set; } = "";
        public DateTimeOffset CreatedAt { get; set; }
    }

    private sealed class CredentialRow
    {
        public string TenantId { get; set; } = "";
        public string? Id { get; set; }
        public string? Kind { get; set; }
        public string? Sealed { get; set; }
        public DateTimeOffset CreatedAt { get; set; }
        public DateTimeOffset? ExpiresAt { get; set; }
    }
}
