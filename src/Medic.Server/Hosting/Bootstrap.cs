using Medic.Contracts;
using Medic.Server.Auth;
using Medic.Server.Common;
using Medic.Server.Tenancy;

namespace Medic.Server.Hosting;

public sealed record BootstrapResult(bool Created, string AdminUsername, string? GeneratedPassword);

/// <summary>
/// First start: the <c>default</c> tenant and its admin (a superadmin), with a random password
/// shown once unless <c>MEDIC_ADMIN_PASSWORD</c> supplies one. Later starts change nothing.
/// </summary>
public sealed class Bootstrap(TenantStore tenants, UserStore users, Accounts accounts, TokenStore tokens, Storage.Database db, Audit.AuditLog audit, TimeProvider time)
{
    public const string AdminUsername = "admin";

    public async Task<BootstrapResult> EnsureFirstAdminAsync(string? adminPassword, CancellationToken ct = default)
    {
        if (await tenants.AnyAsync(ct) || await users.AnyAsync(ct))
        {
            return new BootstrapResult(false, AdminUsername, null);
        }

        if (adminPassword is not null && adminPassword.Length < 12)
        {
            throw new ConfigException("MEDIC_ADMIN_PASSWORD is shorter than 12 characters", "choose a longer password, or unset it to have one generated");
        }

        var generated = adminPassword is null ? Ids.Password() : null;
        await accounts.CreateTenantAsync(TenantStore.DefaultSlug, "Default", AdminUsername, adminPassword ?? generated,
            adminIsSuperadmin: true, actor: "system", clientAddress: null, ct);
        return new BootstrapResult(true, AdminUsername, generated);
    }

    /// <summary>Whether a token secret (from the local CLI config) still authenticates.</summary>
    public async Task<bool> TokenWorksAsync(string secret, TimeProvider time, CancellationToken ct = default) =>
        await tokens.ResolveAsync(secret, ct) is { RevokedAt: null, UserDisabled: false } t && t.ExpiresAt > time.GetUtcNow().AddDays(1);

    /// <summary>A one-use, ten-minute enrollment token with which <c>medic up</c> enrolls its own machine.</summary>
    public async Task<string> IssueLocalEnrollmentTokenAsync(CancellationToken ct = default)
    {
        var tenant = await tenants.FindBySlugAsync(TenantStore.DefaultSlug, ct)
            ?? throw new ConfigException("the default tenant is missing", "restore the database from backup, or start with an empty --data directory");
        var (_, secret) = await Fleet.EnrollmentApi.CreateTokenAsync(db, audit, time, tenant.Id, new Dictionary<string, string> { ["role"] = "control-plane" },
            TimeSpan.FromMinutes(10), 1, "medic up", "system", null, ct);
        return secret;
    }

    /// <summary>Issues the token <c>medic up</c> writes into the local CLI context.</summary>
    public async Task<IssuedToken> IssueLocalTokenAsync(CancellationToken ct = default)
    {
        var tenant = await tenants.FindBySlugAsync(TenantStore.DefaultSlug, ct)
            ?? throw new ConfigException("the default tenant is missing", "restore the database from backup, or start with an empty --data directory");
        var admin = await users.FindAsync(tenant.Id, AdminUsername, ct)
            ?? throw new ConfigException("the admin user of the default tenant is missing", "log in with 'medic login' as another admin instead");
        var owner = new Caller(admin.Id, admin.Username, tenant.Id, tenant.Slug, admin.RoleValue, admin.IsSuperadmin, Caller.TokenMethod, null, null);
        return await accounts.IssueTokenAsync(owner, "medic up (local CLI)", admin.RoleValue, accounts.Lifetime(null).Lifetime!.Value, "system", null, ct);
    }
}
