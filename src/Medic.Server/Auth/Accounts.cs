using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Common;
using Medic.Server.Storage;
using Medic.Server.Tenancy;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Medic.Server.Auth;

public sealed record LoginOutcome(Caller? Caller, string? Failure)
{
    public bool Succeeded => Caller is not null;
}

public sealed record IssuedToken(TokenRow Token, string Secret);

/// <summary>
/// Password checks and the account changes that go with them: logging in, issuing tokens,
/// creating tenants and users. Each change and its audit entry commit in one transaction.
/// </summary>
public sealed class Accounts(
    Database db,
    UserStore users,
    AuditLog audit,
    IPasswordHasher<UserRow> hasher,
    IOptions<MedicOptions> options,
    TimeProvider time)
{
    // Verifying against a fixed hash when no user matches keeps the time of a failed login independent of whether the name exists.
    private static readonly Lazy<string> DummyHash = new(() => new PasswordHasher<UserRow>().HashPassword(new UserRow(), Ids.Password()));

    public string HashPassword(UserRow user, string password) => hasher.HashPassword(user, password);

    public const string WrongCredentials = "The username or password is wrong.";

    /// <summary>
    /// Checks a password against at most one user, so neither the answer nor the time taken says
    /// anything about users of the same name in other tenants: with no tenant named, a username
    /// that exists in several tenants is refused like a wrong password, without checking it
    /// against any of them.
    /// </summary>
    public async Task<LoginOutcome> LoginAsync(string username, string password, string? tenantSlug, string method, string? clientAddress, CancellationToken ct)
    {
        var candidates = await users.LoginCandidatesAsync(username, tenantSlug, ct);
        var candidate = candidates.Count == 1 ? candidates[0] : ((UserRow User, string Slug)?)null;
        var verified = false;
        if (candidate is { } only)
        {
            var result = hasher.VerifyHashedPassword(only.User, only.User.PasswordHash, password);
            verified = result != PasswordVerificationResult.Failed;
            if (result == PasswordVerificationResult.SuccessRehashNeeded)
            {
                await users.UpdatePasswordHashAsync(only.User.Id, hasher.HashPassword(only.User, password), ct);
            }
        }
        else
        {
            // No user, or several and no tenant named: one hash all the same, so the time taken says nothing.
            hasher.VerifyHashedPassword(new UserRow(), DummyHash.Value, password);
        }

        string? failure = null;
        string? reason = null;
        if (candidates.Count > 1)
        {
            failure = WrongCredentials;
            reason = "the username exists in several tenants and no tenant was named";
        }
        else if (!verified) failure = reason = WrongCredentials;
        else if (candidate!.Value.User.Disabled)
        {
            // The caller learns nothing more than for a wrong password; the audit log says why.
            failure = WrongCredentials;
            reason = "the user is disabled";
        }

        var tenantId = candidate?.User.TenantId;
        var details = new Dictionary<string, string> { ["method"] = method };
        if (reason is not null) details["reason"] = reason;
        await audit.AppendAsync(new AuditRecord(tenantId, "user:" + username, "auth.login", "user:" + username,
            failure is null ? AuditOutcomes.Success : AuditOutcomes.Denied, clientAddress, details), ct);

        if (failure is not null)
        {
            return new LoginOutcome(null, failure);
        }

        var (u, tenant) = candidate!.Value;
        await users.RecordLoginAsync(u.Id, time.GetUtcNow(), ct);
        return new LoginOutcome(new Caller(u.Id, u.Username, u.TenantId, tenant, u.RoleValue, u.IsSuperadmin, method, null, null), null);
    }

    /// <summary>Parses a requested lifetime against the configured default and maximum.</summary>
    public (TimeSpan? Lifetime, string? Error) Lifetime(string? expiresIn)
    {
        Durations.TryParse(options.Value.Tokens.MaxLifetime, out var max);
        if (string.IsNullOrWhiteSpace(expiresIn))
        {
            Durations.TryParse(options.Value.Tokens.DefaultLifetime, out var def);
            return (def > max ? max : def, null);
        }

        if (!Durations.TryParse(expiresIn, out var span)) return (null, $"'{expiresIn}' is not a duration; {Duration.Hint}");
        if (span > max) return (null, $"{expiresIn} is longer than the maximum token lifetime ({options.Value.Tokens.MaxLifetime})");
        return (span, null);
    }

    public async Task<IssuedToken> IssueTokenAsync(Caller owner, string name, Role role, TimeSpan lifetime, string actor, string? clientAddress, CancellationToken ct)
    {
        var secret = TokenStore.NewSecret();
        var now = time.GetUtcNow();
        var row = new TokenRow
        {
            Id = Ids.New("tok"),
            TenantId = owner.TenantId,
            UserId = owner.UserId,
            Username = owner.Username,
            Name = name,
            Role = role.ToWire(),
            Prefix = TokenStore.PrefixOf(secret),
            CreatedAt = now,
            ExpiresAt = now + lifetime,
        };
        await db.WriteAsync(async (c, tx) =>
        {
            await TokenStore.InsertAsync(c, tx, row, secret);
            await audit.AppendAsync(c, tx, new AuditRecord(owner.TenantId, actor, "token.create", "token:" + row.Id, AuditOutcomes.Success, clientAddress,
                new Dictionary<string, string> { ["name"] = name, ["role"] = row.Role, ["expires_at"] = AuditChain.FormatTime(row.ExpiresAt), ["owner"] = owner.Username, ["prefix"] = row.Prefix }));
        }, ct);
        return new IssuedToken(row, secret);
    }

    public async Task<(TenantRow Tenant, UserRow? Admin)> CreateTenantAsync(
        string slug, string name, string? adminUsername, string? adminPassword, bool adminIsSuperadmin, string actor, string? clientAddress, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var tenant = new TenantRow { Id = Ids.New("ten"), Slug = slug, Name = name, CreatedAt = now };
        UserRow? admin = null;
        if (adminUsername is not null)
        {
            admin = new UserRow
            {
                Id = Ids.New("usr"), TenantId = tenant.Id, Username = adminUsername, Role = "admin",
                IsSuperadmin = adminIsSuperadmin, CreatedAt = now,
            };
            admin.PasswordHash = hasher.HashPassword(admin, adminPassword ?? throw new ArgumentNullException(nameof(adminPassword)));
        }

        await db.WriteAsync(async (c, tx) =>
        {
            if (await TenantStore.SlugTakenAsync(c, tx, slug))
            {
                throw new DuplicateException($"A tenant with slug '{slug}' already exists.");
            }

            await TenantStore.InsertAsync(c, tx, tenant);
            await audit.AppendAsync(c, tx, new AuditRecord(null, actor, "tenant.create", "tenant:" + tenant.Id, AuditOutcomes.Success, clientAddress,
                new Dictionary<string, string> { ["slug"] = slug, ["name"] = name }));
            await audit.AppendAsync(c, tx, new AuditRecord(tenant.Id, actor, "tenant.create", "tenant:" + tenant.Id, AuditOutcomes.Success, clientAddress,
                new Dictionary<string, string> { ["slug"] = slug, ["name"] = name }));
            if (admin is not null)
            {
                await UserStore.InsertAsync(c, tx, admin);
                await audit.AppendAsync(c, tx, new AuditRecord(tenant.Id, actor, "user.create", "user:" + admin.Id, AuditOutcomes.Success, clientAddress,
                    new Dictionary<string, string> { ["username"] = admin.Username, ["role"] = admin.Role, ["superadmin"] = admin.IsSuperadmin ? "true" : "false" }));
            }
        }, ct);
        return (tenant, admin);
    }

    public async Task<UserRow> CreateUserAsync(string tenantId, string username, Role role, string password, string? displayName, string actor, string? clientAddress, CancellationToken ct)
    {
        var user = new UserRow
        {
            Id = Ids.New("usr"), TenantId = tenantId, Username = username, DisplayName = displayName,
            Role = role.ToWire(), CreatedAt = time.GetUtcNow(),
        };
        user.PasswordHash = hasher.HashPassword(user, password);
        await db.WriteAsync(async (c, tx) =>
        {
            if (await UserStore.FindAsync(c, tx, tenantId, username) is not null)
            {
                throw new DuplicateException($"User '{username}' already exists in this tenant.");
            }

            await UserStore.InsertAsync(c, tx, user);
            await audit.AppendAsync(c, tx, new AuditRecord(tenantId, actor, "user.create", "user:" + user.Id, AuditOutcomes.Success, clientAddress,
                new Dictionary<string, string> { ["username"] = username, ["role"] = user.Role }));
        }, ct);
        return user;
    }
}

/// <summary>A unique name is already taken; endpoints answer 409.</summary>
internal sealed class DuplicateException(string message) : Exception(message);
