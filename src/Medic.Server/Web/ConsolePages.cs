using System.Text;
using System.Text.Encodings.Web;
using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Auth;
using Medic.Server.Common;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Medic.Server.Web;

/// <summary>
/// The console's sign-in and sign-out posts (the pages themselves are Blazor components under
/// <c>Web/Pages</c>). Form posts carry an antiforgery token; the session cookie is HttpOnly and
/// SameSite=Strict.
/// </summary>
internal static class ConsolePages
{
    public static IEndpointRouteBuilder MapConsole(this IEndpointRouteBuilder app)
    {
        // Before the Blazor page endpoint for /login, which would otherwise take the post too.
        app.MapPost("/login", LoginSubmit).AllowAnonymous().RequireRateLimiting(AuthApi.LoginRateLimit).WithOrder(-1).ExcludeFromDescription();
        app.MapPost("/logout", Logout).DisableAntiforgery().ExcludeFromDescription();
        app.MapGet(StylesheetPath, () => Results.Text(Stylesheet, "text/css; charset=utf-8")).AllowAnonymous().ExcludeFromDescription();
        return app;
    }

    private static async Task<IResult> LoginSubmit([FromForm] string username, [FromForm] string password, [FromForm] string? tenant,
        [FromForm(Name = "return_url")] string? returnUrl, HttpContext http, Accounts accounts, CancellationToken ct)
    {
        if (username.Length > 100 || password.Length > 1000 || tenant?.Length > 40)
        {
            return BackToLogin(Pages.Login.TooLong, returnUrl, tenant);
        }

        var outcome = await accounts.LoginAsync(username, password, string.IsNullOrWhiteSpace(tenant) ? null : tenant, Caller.SessionMethod, http.ClientAddress(), ct);
        if (!outcome.Succeeded)
        {
            return BackToLogin(Pages.Login.WrongCredentials, returnUrl, tenant);
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

    /// <summary>
    /// Back to the sign-in page with an error code (the page shows its fixed text, so a crafted link
    /// cannot put words on it), keeping where to go afterwards and the tenant typed.
    /// </summary>
    private static RedirectHttpResult BackToLogin(string error, string? returnUrl, string? tenant)
    {
        var query = new Dictionary<string, string?> { ["error"] = error };
        if (LocalPath(returnUrl) is { } back) query["ReturnUrl"] = back;
        if (!string.IsNullOrWhiteSpace(tenant)) query["tenant"] = tenant;
        return TypedResults.Redirect(Microsoft.AspNetCore.WebUtilities.QueryHelpers.AddQueryString("/login", query));
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
