using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using Medic.Contracts;
using Medic.Server.Common;
using Medic.Server.Storage;

namespace Medic.Server.Auth;

public sealed class TokenRow
{
    public string Id { get; set; } = "";
    public string TenantId { get; set; } = "";
    public string UserId { get; set; } = "";
    public string Username { get; set; } = "";
    public string Name { get; set; } = "";
    public string Role { get; set; } = "viewer";
    public string Prefix { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
    public DateTimeOffset? LastUsedAt { get; set; }

    public Role RoleValue => RoleNames.TryParse(Role, out var r) ? r : Contracts.Role.Viewer;

    public TokenResponse ToResponse() => new(Id, Name, RoleValue, Prefix, UserId, Username, CreatedAt, ExpiresAt, RevokedAt, LastUsedAt);
}

/// <summary>What a presented bearer token resolves to, with its owner's current state.</summary>
public sealed class TokenIdentity
{
    public string Id { get; set; } = "";
    public string TenantId { get; set; } = "";
    public string TenantSlug { get; set; } = "";
    public string UserId { get; set; } = "";
    public string Username { get; set; } = "";
    public string Role { get; set; } = "viewer";
    public string UserRole { get; set; } = "viewer";
    public bool IsSuperadmin { get; set; }
    public bool UserDisabled { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
    public DateTimeOffset? LastUsedAt { get; set; }
}

/// <summary>
/// API tokens: <c>mdk_</c> followed by 256 random bits. Only the SHA-256 of the token is stored
/// (a slow hash adds nothing to a secret of that entropy), plus a short prefix to tell tokens apart.
/// </summary>
public sealed class TokenStore(Database db)
{
    public const string Scheme = "mdk_";

    private const string Columns = "t.id, t.tenant_id, t.user_id, u.username, t.name, t.role, t.prefix, t.created_at, t.expires_at, t.revoked_at, t.last_used_at";

    public static string NewSecret() => Scheme + Ids.Secret(32);

    public static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    public static string PrefixOf(string secret) => secret.Length > 12 ? secret[..12] : secret;

    public static Task InsertAsync(DbConnection c, DbTransaction tx, TokenRow t, string secret) =>
        c.ExecuteAsync(
            "INSERT INTO api_tokens (id, tenant_id, user_id, name, role, token_hash, prefix, created_at, expires_at) " +
            "VALUES (@Id, @TenantId, @UserId, @Name, @Role, @TokenHash, @Prefix, @CreatedAt, @ExpiresAt)",
            new { t.Id, t.TenantId, t.UserId, t.Name, t.Role, TokenHash = Hash(secret), t.Prefix, t.CreatedAt, t.ExpiresAt }, tx);

    public async Task<IReadOnlyList<TokenRow>> ListAsync(string tenantId, string? userId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<TokenRow>(
            $"SELECT {Columns} FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.tenant_id = @tenantId" +
            (userId is null ? "" : " AND t.user_id = @userId") + " ORDER BY t.created_at DESC",
            new { tenantId, userId })).ToList();
    }

    public async Task<TokenRow?> FindAsync(string tenantId, string id, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await FindAsync(c, null, tenantId, id);
    }

    public static Task<TokenRow?> FindAsync(DbConnection c, DbTransaction? tx, string tenantId, string id) =>
        c.QuerySingleOrDefaultAsync<TokenRow>(
            $"SELECT {Columns} FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.tenant_id = @tenantId AND t.id = @id",
            new { tenantId, id }, tx);

    public static Task RevokeAsync(DbConnection c, DbTransaction tx, string tenantId, string id, DateTimeOffset at) =>
        c.ExecuteAsync("UPDATE api_tokens SET revoked_at = @at WHERE tenant_id = @tenantId AND id = @id AND revoked_at IS NULL", new { tenantId, id, at }, tx);

    /// <summary>Revokes every live token of the user except <paramref name="keep"/> (the one making the change, if any); returns how many.</summary>
    public static Task<int> RevokeAllOfUserAsync(DbConnection c, DbTransaction tx, string tenantId, string userId, string? keep, DateTimeOffset at) =>
        c.ExecuteAsync(
            "UPDATE api_tokens SET revoked_at = @at WHERE tenant_id = @tenantId AND user_id = @userId AND revoked_at IS NULL AND expires_at > @at" +
            (keep is null ? "" : " AND id <> @keep"),
            new { tenantId, userId, keep, at }, tx);

    public async Task<TokenIdentity?> ResolveAsync(string secret, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<TokenIdentity>(
            "SELECT t.id, t.tenant_id, ten.slug AS tenant_slug, t.user_id, u.username, t.role, u.role AS user_role, " +
            "u.is_superadmin, u.disabled AS user_disabled, t.expires_at, t.revoked_at, t.last_used_at " +
            "FROM api_tokens t JOIN users u ON u.id = t.user_id JOIN tenants ten ON ten.id = t.tenant_id WHERE t.token_hash = @hash",
            new { hash = Hash(secret) });
    }

    public async Task TouchAsync(string id, DateTimeOffset at, CancellationToken ct = default) =>
        await db.WriteAsync((c, tx) => c.ExecuteAsync("UPDATE api_tokens SET last_used_at = @at WHERE id = @id", new { id, at }, tx), ct);
}
