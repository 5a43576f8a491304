using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Common;
using Medic.Server.Storage;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Medic.Server.Auth;

internal static class AuthApi
{
    public static IServiceCollection AddAuth(this IServiceCollection services)
    {
        services.AddSingleton<UserStore>();
        services.AddSingleton<TokenStore>();
        services.AddSingleton<SessionStore>();
        services.AddSingleton<IPasswordHasher<UserRow>, PasswordHasher<UserRow>>();
        services.AddSingleton<Accounts>();
        return services;
    }

    public const string LoginRateLimit = "login";

    public static IEndpointRouteBuilder MapAuth(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/auth").WithTags("Auth");

        group.MapPost("/token", ExchangePasswordForToken).AllowAnonymous().RequireRateLimiting(LoginRateLimit)
            .WithSummary("Exchange a username and password for an API token (what 'medic login' does).");
        group.MapPost("/login", SignIn).AllowAnonymous().RequireRateLimiting(LoginRateLimit)
            .WithSummary("Start a console session (cookie) with a username and password.");
        group.MapPost("/logout", SignOut).WithSummary("End the console session, or revoke the API token the call is made with.");

        group.MapGet("/antiforgery", Antiforgery).Requires(Permission.Read)
            .WithSummary("The antiforgery token that state-changing calls made with a console session send in the X-Medic-Antiforgery header.");

        app.MapGet("/api/v1/whoami", WhoAmI).WithTags("Auth").Requires(Permission.Read)
            .WithSummary("The caller's user, tenant, role and credential.");
        return app;
    }

    private static async Task<Results<Ok<TokenCreatedResponse>, ProblemHttpResult, ValidationProblem>> ExchangePasswordForToken(
        TokenLoginRequest request, Accounts accounts, HttpContext http, CancellationToken ct)
    {
        var v = new Validator()
            .Require("username", request.Username, 100)
            .Require("password", request.Password, 1000)
            .Optional("tenant", request.Tenant, 40)
            .Optional("token_name", request.TokenName, 100);
        var (lifetime, lifetimeError) = accounts.Lifetime(request.ExpiresIn);
        if (lifetimeError is not null) v.Add("expires_in", lifetimeError);
        if (!v.Ok) return v.Problem();

        var outcome = await accounts.LoginAsync(request.Username, request.Password, request.Tenant, Caller.TokenMethod, http.ClientAddress(), ct);
        http.MarkAudited();
        if (!outcome.Succeeded)
        {
            return LoginFailed(outcome.Failure!);
        }

        var caller = outcome.Caller!;
        var issued = await accounts.IssueTokenAsync(caller, request.TokenName ?? "medic login", caller.Role, lifetime!.Value, caller.Actor, http.ClientAddress(), ct);
        return TypedResults.Ok(new TokenCreatedResponse(issued.Token.ToResponse(), issued.Secret));
    }

    private static async Task<Results<NoContent, ProblemHttpResult, ValidationProblem>> SignIn(
        LoginRequest request, Accounts accounts, HttpContext http, CancellationToken ct)
    {
        var v = new Validator()
            .Require("username", request.Username, 100)
            .Require("password", request.Password, 1000)
            .Optional("tenant", request.Tenant, 40);
        if (!v.Ok) return v.Problem();

        var outcome = await accounts.LoginAsync(request.Username, request.Password, request.Tenant, Caller.SessionMethod, http.ClientAddress(), ct);
        http.MarkAudited();
        if (!outcome.Succeeded)
        {
            return LoginFailed(outcome.Failure!);
        }

        await SessionCookie.SignInAsync(http, outcome.Caller!);
        return TypedResults.NoContent();
    }

    private static async Task<NoContent> SignOut(HttpContext http, AuditLog audit)
    {
        await EndSessionAsync(http, audit);
        return TypedResults.NoContent();
    }

    /// <summary>Ends what the caller signed in with: the console session, or the API token itself (it is revoked).</summary>
    internal static async Task EndSessionAsync(HttpContext http, AuditLog audit)
    {
        if (Caller.From(http.User) is { } caller)
        {
            var db = http.RequestServices.GetRequiredService<Database>();
            var now = http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
            await db.WriteAsync(async (c, tx) =>
            {
                if (caller.TokenId is not null)
                {
                    await TokenStore.RevokeAsync(c, tx, caller.TenantId, caller.TokenId, now);
                }

                if (SessionCookie.SessionId(http.User) is { } sessionId)
                {
                    await SessionStore.EndAsync(c, tx, sessionId, SessionEnd.SignedOut, now);
                }

                await audit.AppendAsync(c, tx, new AuditRecord(caller.TenantId, caller.Actor, "auth.logout",
                    caller.TokenId is null ? "user:" + caller.UserId : "token:" + caller.TokenId, AuditOutcomes.Success,
                    http.ClientAddress(), new Dictionary<string, string> { ["method"] = caller.AuthMethod }));
            });
            http.MarkAudited();
        }

        await http.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
    }

    private static Ok<AntiforgeryTokenResponse> Antiforgery(HttpContext http, Microsoft.AspNetCore.Antiforgery.IAntiforgery antiforgery)
    {
        var tokens = antiforgery.GetAndStoreTokens(http);
        return TypedResults.Ok(new AntiforgeryTokenResponse(tokens.HeaderName ?? SessionForgeryGuard.HeaderName, tokens.RequestToken!));
    }

    private static Ok<WhoAmIResponse> WhoAmI(HttpContext http)
    {
        var c = http.Caller();
        // A copy of the exact contract type: the JSON context knows WhoAmIResponse, not Caller.
        return TypedResults.Ok(new WhoAmIResponse(c.UserId, c.Username, c.TenantId, c.TenantSlug, c.Role, c.Superadmin, c.AuthMethod, c.TokenId, c.TokenExpiresAt));
    }

    /// <summary>Every failed login gets this one answer, whatever the reason (see <see cref="Accounts.LoginAsync"/>).</summary>
    internal const string LoginRemedy =
        "check the username and password; if your username exists in several tenants, name yours (medic login --tenant SLUG, or the console's Tenant field); " +
        "a tenant admin can set a new password with 'medic users reset-password'";

    internal static ProblemHttpResult LoginFailed(string failure) =>
        Problems.Of(StatusCodes.Status401Unauthorized, "Login failed", failure, LoginRemedy);
}
