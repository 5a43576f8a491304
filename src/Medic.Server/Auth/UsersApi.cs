using System.Text.RegularExpressions;
using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Common;
using Medic.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Medic.Server.Auth;

internal static partial class UsersApi
{
    /// <summary>Usernames: letters, digits, '.', '_', '@' and '-', starting with a letter or digit, at most 64.</summary>
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")]
    internal static partial Regex UsernamePattern();

    public static IEndpointRouteBuilder MapUsers(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/users").WithTags("Users");
        group.MapGet("/", List).Requires(Permission.Read).WithSummary("Users of the caller's tenant.");
        group.MapGet("/{id}", Get).Requires(Permission.Read).WithSummary("One user, by id or username.");
        group.MapPost("/", Create).Requires(Permission.Administer).WithSummary("Add a user; a password is generated and shown once when none is given.");
        group.MapPut("/{id}/role", SetRole).Requires(Permission.Administer).WithSummary("Change a user's role.");
        group.MapPost("/{id}/disable", Disable).Requires(Permission.Administer).WithSummary("Disable a user: their sessions and tokens stop working.");
        group.MapPost("/{id}/password", ResetPassword).Requires(Permission.Administer).WithSummary("Set a new password (generated and shown once when none is given); ends the user's console sessions and revokes their API tokens.");
        group.MapPost("/{id}/enable", Enable).Requires(Permission.Administer).WithSummary("Enable a disabled user.");
        return app;
    }

    private static async Task<Ok<IReadOnlyList<UserResponse>>> List(UserStore users, HttpContext http, CancellationToken ct) =>
        TypedResults.Ok<IReadOnlyList<UserResponse>>((await users.ListAsync(http.Caller().TenantId, ct)).Select(u => u.ToResponse()).ToList());

    private static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> Get(string id, UserStore users, HttpContext http, CancellationToken ct) =>
        await users.FindAsync(http.Caller().TenantId, id, ct) is { } u ? TypedResults.Ok(u.ToResponse()) : Problems.NotFound("user", id, "medic users list");

    private static async Task<Results<Created<UserCreatedResponse>, ProblemHttpResult, ValidationProblem>> Create(
        CreateUserRequest request, Accounts accounts, HttpContext http, CancellationToken ct)
    {
        var caller = http.Caller();
        var v = new Validator()
            .Require("username", request.Username, 64)
            .Optional("display_name", request.DisplayName, 200)
            .Optional("password", request.Password, 1000);
        if (!string.IsNullOrEmpty(request.Username)) v.Check(UsernamePattern().IsMatch(request.Username), "username", "may hold letters, digits, '.', '_', '@' and '-', starting with a letter or digit");
        if (request.Password is not null) v.Check(request.Password.Length >= 12, "password", "must be at least 12 characters");
        v.Check(request.Role != Role.Metrics, "role", "'metrics' is a role for API tokens only (medic tokens create --role metrics); give the user one of: " + RoleNames.All);
        if (!v.Ok) return v.Problem();

        var generated = request.Password is null ? Ids.Password() : null;
        try
        {
            var user = await accounts.CreateUserAsync(caller.TenantId, request.Username, request.Role ?? Role.Viewer, request.Password ?? generated!,
                request.DisplayName, caller.Actor, http.ClientAddress(), ct);
            http.MarkAudited();
            return TypedResults.Created($"/api/v1/users/{user.Id}", new UserCreatedResponse(user.ToResponse(), generated));
        }
        catch (DuplicateException ex)
        {
            return Problems.Conflict(ex.Message, "choose another username, or change the existing user's role with 'medic users set-role'");
        }
    }

    private static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> SetRole(
        string id, SetRoleRequest request, Database db, AuditLog audit, HttpContext http, CancellationToken ct)
    {
        var caller = http.Caller();
        if (request.Role == Role.Metrics)
        {
            return Problems.Invalid("'metrics' is a role for API tokens only.", "give the user one of: " + RoleNames.All + "; create a scraping token with 'medic tokens create --role metrics'");
        }

        return await db.WriteAsync<Results<Ok<UserResponse>, ProblemHttpResult>>(async (c, tx) =>
        {
            await UserStore.LockAdminChangesAsync(c, tx, db.Dialect, caller.TenantId);
            var user = await UserStore.FindAsync(c, tx, caller.TenantId, id);
            if (user is null) return Problems.NotFound("user", id, "medic users list");
            if (user.RoleValue == Role.Admin && request.Role != Role.Admin && !user.Disabled && await UserStore.CountActiveAdminsAsync(c, tx, caller.TenantId) <= 1)
            {
                return Problems.Conflict($"'{user.Username}' is the tenant's last admin.", "make another user admin first");
            }

            await UserStore.SetRoleAsync(c, tx, caller.TenantId, user.Id, request.Role);
            await audit.AppendAsync(c, tx, new AuditRecord(caller.TenantId, caller.Actor, "user.set_role", "user:" + user.Id, AuditOutcomes.Success, http.ClientAddress(),
                new Dictionary<string, string> { ["username"] = user.Username, ["from"] = user.Role, ["to"] = request.Role.ToWire() }));
            http.MarkAudited();
            user.Role = request.Role.ToWire();
            return TypedResults.Ok(user.ToResponse());
        }, ct);
    }

    private static async Task<Results<Ok<UserCreatedResponse>, ProblemHttpResult, ValidationProblem>> ResetPassword(
        string id, ResetPasswordRequest request, Database db, AuditLog audit, Accounts accounts, TimeProvider time, HttpContext http, CancellationToken ct)
    {
        var caller = http.Caller();
        var v = new Validator().Optional("password", request.Password, 1000);
        if (request.Password is not null) v.Check(request.Password.Length >= 12, "password", "must be at least 12 characters");
        if (!v.Ok) return v.Problem();

        var generated = request.Password is null ? Ids.Password() : null;
        return await db.WriteAsync<Results<Ok<UserCreatedResponse>, ProblemHttpResult, ValidationProblem>>(async (c, tx) =>
        {
            var user = await UserStore.FindAsync(c, tx, caller.TenantId, id);
            if (user is null) return Problems.NotFound("user", id, "medic users list");
            await UserStore.SetPasswordHashAsync(c, tx, caller.TenantId, user.Id, accounts.HashPassword(user, request.Password ?? generated!));

            // A new password cuts off whoever held the old one: every console session and API token of the user ends,
            // except the credential making this call when users reset their own password.
            var self = user.Id == caller.UserId;
            var now = time.GetUtcNow();
            var sessions = await SessionStore.EndAllAsync(c, tx, caller.TenantId, user.Id, self ? SessionCookie.SessionId(http.User) : null, SessionEnd.PasswordReset, now);
            var tokens = await TokenStore.RevokeAllOfUserAsync(c, tx, caller.TenantId, user.Id, self ? caller.TokenId : null, now);
            await audit.AppendAsync(c, tx, new AuditRecord(caller.TenantId, caller.Actor, "user.reset_password", "user:" + user.Id, AuditOutcomes.Success,
                http.ClientAddress(), new Dictionary<string, string>
                {
                    ["username"] = user.Username, ["generated"] = generated is null ? "false" : "true",
                    ["sessions_ended"] = sessions.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["tokens_revoked"] = tokens.ToString(System.Globalization.CultureInfo.InvariantCulture),
                }));
            http.MarkAudited();
            return TypedResults.Ok(new UserCreatedResponse(user.ToResponse(), generated));
        }, ct);
    }

    private static Task<Results<Ok<UserResponse>, ProblemHttpResult>> Disable(string id, Database db, AuditLog audit, HttpContext http, CancellationToken ct) =>
        SetDisabled(id, true, db, audit, http, ct);

    private static Task<Results<Ok<UserResponse>, ProblemHttpResult>> Enable(string id, Database db, AuditLog audit, HttpContext http, CancellationToken ct) =>
        SetDisabled(id, false, db, audit, http, ct);

    private static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> SetDisabled(
        string id, bool disabled, Database db, AuditLog audit, HttpContext http, CancellationToken ct)
    {
        var caller = http.Caller();
        return await db.WriteAsync<Results<Ok<UserResponse>, ProblemHttpResult>>(async (c, tx) =>
        {
            await UserStore.LockAdminChangesAsync(c, tx, db.Dialect, caller.TenantId);
            var user = await UserStore.FindAsync(c, tx, caller.TenantId, id);
            if (user is null) return Problems.NotFound("user", id, "medic users list");
            if (disabled && user.Id == caller.UserId) return Problems.Conflict("You cannot disable yourself.", "ask another admin to do it");
            if (disabled && user.RoleValue == Role.Admin && !user.Disabled && await UserStore.CountActiveAdminsAsync(c, tx, caller.TenantId) <= 1)
            {
                return Problems.Conflict($"'{user.Username}' is the tenant's last admin.", "make another user admin first");
            }

            await UserStore.SetDisabledAsync(c, tx, caller.TenantId, user.Id, disabled);
            await audit.AppendAsync(c, tx, new AuditRecord(caller.TenantId, caller.Actor, disabled ? "user.disable" : "user.enable", "user:" + user.Id,
                AuditOutcomes.Success, http.ClientAddress(), new Dictionary<string, string> { ["username"] = user.Username }));
            http.MarkAudited();
            user.Disabled = disabled;
            return TypedResults.Ok(user.ToResponse());
        }, ct);
    }
}
