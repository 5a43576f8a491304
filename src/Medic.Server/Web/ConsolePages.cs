using System.Text;
using System.Text.Encodings.Web;
using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Auth;
using Medic.Server.Common;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Mvc;

namespace Medic.Server.Web;

/// <summary>
/// The console's sign-in and overview pages, server-rendered. Form posts carry an antiforgery
/// token; the session cookie is HttpOnly and SameSite=Strict.
/// </summary>
internal static class ConsolePages
{
    public static IEndpointRouteBuilder MapConsole(this IEndpointRouteBuilder app)
    {
        app.MapGet("/login", LoginPage).AllowAnonymous().ExcludeFromDescription();
        app.MapPost("/login", LoginSubmit).AllowAnonymous().RequireRateLimiting(AuthApi.LoginRateLimit).ExcludeFromDescription();
        app.MapPost("/logout", Logout).DisableAntiforgery().ExcludeFromDescription();
        app.MapGet("/", Overview).Requires(Permission.Read).ExcludeFromDescription();
        app.MapGet(StylesheetPath, () => Results.Text(Stylesheet, "text/css; charset=utf-8")).AllowAnonymous().ExcludeFromDescription();
        return app;
    }

    private static IResult LoginPage(HttpContext http, IAntiforgery antiforgery, string? error = null, [FromQuery(Name = "ReturnUrl")] string? returnUrl = null)
    {
        var tokens = antiforgery.GetAndStoreTokens(http);
        var body = new StringBuilder();
        body.Append("<main class=\"card\"><h1>Medic</h1><p>Sign in to the console.</p>");
        if (error is not null)
        {
            body.Append("<p class=\"error\" role=\"alert\">").Append(Encode(error)).Append("</p>");
        }

        body.Append("<form method=\"post\" action=\"/login\">")
            .Append($"<input type=\"hidden\" name=\"{Encode(tokens.FormFieldName)}\" value=\"{Encode(tokens.RequestToken!)}\">")
            .Append("<label>Username <input name=\"username\" autocomplete=\"username\" required maxlength=\"100\" autofocus></label>")
            .Append("<label>Password <input name=\"password\" type=\"password\" autocomplete=\"current-password\" required maxlength=\"1000\"></label>")
            .Append("<label>Tenant <input name=\"tenant\" placeholder=\"only if your username is in several tenants\" maxlength=\"40\"></label>")
            .Append(LocalPath(returnUrl) is { } back ? $"<input type=\"hidden\" name=\"return_url\" value=\"{Encode(back)}\">" : "")
            .Append("<button type=\"submit\">Sign in</button></form></main>");
        return Page("Sign in", body.ToString(), error is null ? 200 : 401);
    }

    private static async Task<IResult> LoginSubmit([FromForm] string username, [FromForm] string password, [FromForm] string? tenant,
        [FromForm(Name = "return_url")] string? returnUrl, HttpContext http, Accounts accounts, IAntiforgery antiforgery, CancellationToken ct)
    {
        if (username.Length > 100 || password.Length > 1000 || tenant?.Length > 40)
        {
            return LoginPage(http, antiforgery, "A field is too long.", returnUrl);
        }

        var outcome = await accounts.LoginAsync(username, password, string.IsNullOrWhiteSpace(tenant) ? null : tenant, Caller.SessionMethod, http.ClientAddress(), ct);
        if (!outcome.Succeeded)
        {
            return LoginPage(http, antiforgery, outcome.Failure, returnUrl);
        }

        await SessionCookie.SignInAsync(http, outcome.Caller!);
        return Results.Redirect(LocalPath(returnUrl) ?? "/");
    }

    private static async Task<IResult> Logout(HttpContext http, IAntiforgery antiforgery, AuditLog audit)
    {
        // The form has no fields to bind, so the framework would not check the token on its own.
        if (!await antiforgery.IsRequestValidAsync(http))
        {
            return Results.Redirect("/");
        }

        await AuthApi.EndSessionAsync(http, audit);
        return Results.Redirect("/login");
    }

    private static async Task<IResult> Overview(HttpContext http, AuditLog audit, IAntiforgery antiforgery, CancellationToken ct)
    {
        var c = http.Caller();
        var tokens = antiforgery.GetAndStoreTokens(http);
        var body = new StringBuilder();
        body.Append("<header><h1>Medic</h1><form method=\"post\" action=\"/logout\">")
            .Append($"<input type=\"hidden\" name=\"{Encode(tokens.FormFieldName)}\" value=\"{Encode(tokens.RequestToken!)}\">")
            .Append("<button type=\"submit\">Sign out</button></form></header>")
            .Append("<section class=\"card\"><h2>Signed in</h2><dl>")
            .Append($"<dt>User</dt><dd>{Encode(c.Username)}</dd><dt>Tenant</dt><dd>{Encode(c.TenantSlug)}</dd>")
            .Append($"<dt>Role</dt><dd>{Encode(c.Role.ToWire())}{(c.Superadmin ? " (superadmin)" : "")}</dd><dt>Version</dt><dd>{Encode(MedicVersion.Current)}</dd></dl>")
            .Append("<p>The API is described at <a href=\"/openapi/v1.json\">/openapi/v1.json</a>.</p></section>");

        if (Permissions.Allows(c.Role, c.Superadmin, Permission.Administer))
        {
            // Only entries appended since the last check are verified here; 'medic audit verify' recomputes everything.
            var verification = await audit.VerifySinceLastAsync(c.TenantId, ct);
            var page = await audit.QueryAsync(c.TenantId, new AuditQuery(Limit: 20), ct);
            body.Append("<section class=\"card\"><h2>Audit log</h2>")
                .Append(verification.Ok
                    ? $"<p class=\"ok\">The chain verifies: {verification.HeadSeq} entries intact ({verification.Checked} checked since the last verification).</p>"
                    : $"<p class=\"error\">The chain is broken at entry {verification.FirstBroken!.Seq}: {Encode(verification.FirstBroken.Reason)}</p>")
                .Append("<table><thead><tr><th>#</th><th>Time (UTC)</th><th>Actor</th><th>Action</th><th>Target</th><th>Outcome</th></tr></thead><tbody>");
            foreach (var e in page.Items)
            {
                body.Append($"<tr><td>{e.Seq}</td><td>{e.At:yyyy-MM-dd HH:mm:ss}</td><td>{Encode(e.Actor)}</td><td>{Encode(e.Action)}</td><td>{Encode(e.Target)}</td><td>{Encode(e.Outcome)}</td></tr>");
            }

            body.Append("</tbody></table></section>");
        }

        return Page("Overview", body.ToString(), 200);
    }

    /// <summary>
    /// Where to go after signing in: only a path on this server, else null. Browsers drop tabs and
    /// line breaks from URLs and read '\' as '/', so "/\tevil.example" or "/\\evil.example"
    /// would leave the site; no control character, no backslash, no "//" start and no scheme pass.
    /// </summary>
    internal static string? LocalPath(string? url) =>
        url is { Length: > 1 and <= 500 } && url[0] == '/' && url[1] != '/'
        && !url.Any(ch => char.IsControl(ch) || ch == '\\') && !url.Contains("://", StringComparison.Ordinal) ? url : null;

    internal static string Encode(string s) => HtmlEncoder.Default.Encode(s);

    internal const string StylesheetPath = "/console.css";

    /// <summary>The console's one stylesheet, served as a file so the content security policy can forbid inline styles.</summary>
    internal const string Stylesheet = """
        body{font-family:system-ui,sans-serif;margin:0;padding:2rem;background:#f5f6f8;color:#1d2330}
        header{display:flex;justify-content:space-between;align-items:center}
        .card{background:#fff;border-radius:8px;padding:1.5rem;margin:1rem auto;max-width:60rem;box-shadow:0 1px 3px #0002}
        main.card{max-width:24rem} label{display:block;margin:.75rem 0} input{display:block;width:100%;padding:.4rem;box-sizing:border-box}
        button{padding:.5rem 1rem} .error{color:#b00020} .ok{color:#1b6e2a}
        table{border-collapse:collapse;width:100%} td,th{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #e3e5ea;font-size:.9rem}
        dl{display:grid;grid-template-columns:8rem 1fr} dt{font-weight:600}
        """;

    internal static IResult Page(string title, string body, int status) => Results.Content(
        $$"""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{Encode(title)}} · Medic</title>
        <link rel="stylesheet" href="{{StylesheetPath}}"></head><body>{{body}}</body></html>
        """, "text/html; charset=utf-8", Encoding.UTF8, status);
}
