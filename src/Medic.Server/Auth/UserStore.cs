using System.Data.Common;
using Dapper;
using Medic.Contracts;
using Medic.Server.Storage;

namespace Medic.Server.Auth;

public sealed class UserRow
{
    public string Id { get; set; } = "";
    public string TenantId { get; set; } = "";
    public string Username { get; set; } = "";
    public string? DisplayName { get; set; }
    public string PasswordHash { get; set; } = "";
    public string Role { get; set; } = "viewer";
    public bool IsSuperadmin { get; set; }
    public bool Disabled { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? LastLoginAt { get; set; }

    public Role RoleValue => RoleNames.TryParse(Role, out var r) ? r : Contracts.Role.Viewer;

    public UserResponse ToResponse() => new(Id, Username, DisplayName, RoleValue, IsSuperadmin, Disabled, CreatedAt, LastLoginAt);
}

/// <summary>Users belong to exactly one tenant; every query here is scoped by tenant id.</summary>
public sealed class UserStore(Database db)
{
    private const string Columns = "id, tenant_id, username, display_name, password_hash, role, is_superadmin, disabled, created_at, last_login_at";

    public async Task<IReadOnlyList<UserRow>> ListAsync(string tenantId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<UserRow>($"SELECT {Columns} FROM users WHERE tenant_id = @tenantId ORDER BY username", new { tenantId })).ToList();
    }

    /// <summary>Finds a user of the tenant by id or by username.</summary>
    public async Task<UserRow?> FindAsync(string tenantId, string idOrName, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await FindAsync(c, null, tenantId, idOrName);
    }

    public static Task<UserRow?> FindAsync(DbConnection c, DbTransaction? tx, string tenantId, string idOrName) =>
        c.QuerySingleOrDefaultAsync<UserRow>(
            $"SELECT {Columns} FROM users WHERE tenant_id = @tenantId AND (id = @idOrName OR username = @idOrName)",
            new { tenantId, idOrName }, tx);

    /// <summary>Login candidates: the user of that name in one tenant, or in every tenant when none is named.</summary>
    public async Task<IReadOnlyList<(UserRow User, string TenantSlug)>> LoginCandidatesAsync(string username, string? tenantSlug, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        var rows = await c.QueryAsync<UserRow, string, (UserRow, string)>(
            $"SELECT u.{Columns.Replace(", ", ", u.", StringComparison.Ordinal)}, t.slug FROM users u JOIN tenants t ON t.id = u.tenant_id " +
            "WHERE u.username = @username" + (tenantSlug is null ? "" : " AND t.slug = @tenantSlug"),
            (u, slug) => (u, slug),
            new { username, tenantSlug },
            splitOn: "slug");
        return rows.ToList();
    }

    public static Task InsertAsync(DbConnection c, DbTransaction tx, UserRow u) =>
        c.ExecuteAsync(
            $"INSERT INTO users ({Columns}) VALUES (@Id, @TenantId, @Username, @DisplayName, @PasswordHash, @Role, @IsSuperadmin, @Disabled, @CreatedAt, @LastLoginAt)",
            u, tx);

    public static Task SetRoleAsync(DbConnection c, DbTransaction tx, string tenantId, string id, Role role) =>
        c.ExecuteAsync("UPDATE users SET role = @role WHERE tenant_id = @tenantId AND id = @id", new { tenantId, id, role = role.ToWire() }, tx);

    public static Task SetDisabledAsync(DbConnection c, DbTransaction tx, string tenantId, string id, bool disabled) =>
        c.ExecuteAsync("UPDATE users SET disabled = @disabled WHERE tenant_id = @tenantId AND id = @id", new { tenantId, id, disabled }, tx);

    public static Task SetPasswordHashAsync(DbConnection c, DbTransaction tx, string tenantId, string id, string hash) =>
        c.ExecuteAsync("UPDATE users SET password_hash = @hash WHERE tenant_id = @tenantId AND id = @id", new { tenantId, id, hash }, tx);

    /// <summary>
    /// Serializes changes to who is an active admin of a tenant, so the last-admin check holds: on
    /// PostgreSQL two admins demoting each other at once would otherwise both count two admins and
    /// leave none. SQLite's write transaction already excludes every other writer.
    /// </summary>
    public static Task LockAdminChangesAsync(DbConnection c, DbTransaction tx, SqlDialect dialect, string tenantId) =>
        dialect.ForUpdate.Length == 0
            ? Task.CompletedTask
            : c.ExecuteAsync("SELECT id FROM tenants WHERE id = @tenantId" + dialect.ForUpdate, new { tenantId }, tx);

    public static Task<long> CountActiveAdminsAsync(DbConnection c, DbTransaction tx, string tenantId) =>
        c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM users WHERE tenant_id = @tenantId AND role = 'admin' AND disabled = @no", new { tenantId, no = false }, tx);

    public async Task RecordLoginAsync(string id, DateTimeOffset at, CancellationToken ct = default) =>
        await db.WriteAsync((c, tx) => c.ExecuteAsync("UPDATE users SET last_login_at = @at WHERE id = @id", new { id, at }, tx), ct);

    public async Task UpdatePasswordHashAsync(string id, string hash, CancellationToken ct = default) =>
        await db.WriteAsync((c, tx) => c.ExecuteAsync("UPDATE users SET password_hash = @hash WHERE id = @id", new { id, hash }, tx), ct);

    public async Task<bool> AnyAsync(CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM users") > 0;
    }
}
