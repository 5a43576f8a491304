using System.Security.Claims;
using Medic.Server.Common;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;

namespace Medic.Server.Auth;

/// <summary>
/// Console sessions: HttpOnly, SameSite=Strict, Secure under HTTPS, re-checked on every request
/// against the user and against the session's row on the server (<see cref="SessionStore"/>).
/// </summary>
internal static class SessionCookie
{
    /// <summary>Starts a server-side session for <paramref name="caller"/> and sets its cookie.</summary>
    public static async Task SignInAsync(HttpContext http, Caller caller)
    {
        var sessionId = await http.RequestServices.GetRequiredService<SessionStore>().StartAsync(caller, http.RequestAborted);
        var principal = caller.ToPrincipal(CookieAuthenticationDefaults.AuthenticationScheme);
        ((ClaimsIdentity)principal.Identity!).AddClaim(new Claim(SessionStore.ClaimType, sessionId));
        await http.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, principal);
    }

    /// <summary>The server-side session id the request's cookie names, or null (a token call, or no session).</summary>
    public static string? SessionId(ClaimsPrincipal? principal) => principal?.FindFirst(SessionStore.ClaimType)?.Value;

    public static void Configure(CookieAuthenticationOptions o)
    {
        o.Cookie.Name = "medic.session";
        o.Cookie.HttpOnly = true;
        o.Cookie.SameSite = SameSiteMode.Strict;
        o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        o.ExpireTimeSpan = TimeSpan.FromHours(12);
        o.SlidingExpiration = true;
        o.LoginPath = "/login";
        o.LogoutPath = "/logout";
        o.AccessDeniedPath = "/denied"; // the console page Web/Pages/AccessDenied.razor
        o.Events.OnRedirectToLogin = ctx => !IsApi(ctx.Request)
            ? Redirect(ctx)
            : ctx.Request.Path.Equals(TokenAuthenticationHandler.MetricsPath, StringComparison.Ordinal)
                ? Problems.WriteAsync(ctx.HttpContext, StatusCodes.Status401Unauthorized, "Not authenticated", $"Scraping {TokenAuthenticationHandler.MetricsPath} needs a 'metrics' API token.",
                    "have a superadmin run 'medic tokens create --role metrics' and send it as 'Authorization: Bearer <token>' (docs/metrics.md)")
                : Problems.WriteAsync(ctx.HttpContext, StatusCodes.Status401Unauthorized, "Not authenticated", "This call needs an API token or a console session.",
                    "run 'medic login --server URL' and send the token as 'Authorization: Bearer <token>'");
        o.Events.OnRedirectToAccessDenied = ctx => IsApi(ctx.Request)
            ? Problems.WriteAsync(ctx.HttpContext, StatusCodes.Status403Forbidden, "Forbidden", "Your role does not allow this.", "ask a tenant admin for a role that allows this")
            : Redirect(ctx);
        o.Events.OnValidatePrincipal = ValidateAsync;
    }

    /// <summary>Calls answered with problem details rather than a redirect to the sign-in page: the API and <c>/metrics</c>.</summary>
    internal static bool IsApi(HttpRequest r) =>
        r.Path.StartsWithSegments("/api", StringComparison.Ordinal) || r.Path.Equals(TokenAuthenticationHandler.MetricsPath, StringComparison.Ordinal);

    private static Task Redirect(RedirectContext<CookieAuthenticationOptions> ctx)
    {
        ctx.Response.Redirect(ctx.RedirectUri);
        return Task.CompletedTask;
    }

    /// <summary>
    /// A disabled or deleted user, or a session ended on the server (signed out, password reset),
    /// loses the session at once; a changed role applies at once.
    /// </summary>
    private static async Task ValidateAsync(CookieValidatePrincipalContext ctx)
    {
        var caller = Caller.From(ctx.Principal);
        var sessionId = SessionId(ctx.Principal);
        var users = ctx.HttpContext.RequestServices.GetRequiredService<UserStore>();
        var sessions = ctx.HttpContext.RequestServices.GetRequiredService<SessionStore>();
        var user = caller is null ? null : await users.FindAsync(caller.TenantId, caller.UserId, ctx.HttpContext.RequestAborted);
        if (caller is null || user is null || user.Disabled || user.Id != caller.UserId
            || sessionId is null || !await sessions.IsActiveAsync(sessionId, user.Id, ctx.HttpContext.RequestAborted))
        {
            ctx.RejectPrincipal();
            await ctx.HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            return;
        }

        if (user.RoleValue != caller.Role || user.IsSuperadmin != caller.Superadmin)
        {
            var renewed = (caller with { Role = user.RoleValue, Superadmin = user.IsSuperadmin }).ToPrincipal(CookieAuthenticationDefaults.AuthenticationScheme);
            ((ClaimsIdentity)renewed.Identity!).AddClaim(new Claim(SessionStore.ClaimType, sessionId));
            ctx.ReplacePrincipal(renewed);
            ctx.ShouldRenew = true;
        }
    }
}

/// <summary>Answers a refused call with problem details that name the missing permission.</summary>
internal sealed class ProblemAuthorizationResultHandler : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult result)
    {
        if (result.Forbidden && SessionCookie.IsApi(context.Request) && Caller.From(context.User) is { } caller)
        {
            var needed = policy.Requirements.OfType<PermissionRequirement>().Select(r => r.Permission.ToString().ToLowerInvariant()).FirstOrDefault() ?? "more";
            var (detail, remedy) = needed switch
            {
                "managetenants" => ("Only superadmins can manage tenants.", "ask a tenant admin for a role that allows this"),
                "scrapemetrics" => ($"Only a 'metrics' token a superadmin created scrapes {TokenAuthenticationHandler.MetricsPath}; this caller's role in tenant '{caller.TenantSlug}' is '{Contracts.RoleNames.ToWire(caller.Role)}'.",
                    "have a superadmin run 'medic tokens create --role metrics' and scrape with that token"),
                _ => ($"This call needs the '{needed}' permission; your role in tenant '{caller.TenantSlug}' is '{Contracts.RoleNames.ToWire(caller.Role)}'.", "ask a tenant admin for a role that allows this"),
            };
            await Problems.WriteAsync(context, StatusCodes.Status403Forbidden, "Forbidden", detail, remedy);
            return;
        }

        await _default.HandleAsync(next, context, policy, result);
    }
}
