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

    /// <summary>The sign-in form's post, as opposed to an API call.</summary>
    internal static bool IsSignInForm(HttpRequest request) => HttpMethods.IsPost(request.Method) && request.Path == "/login";

    internal const string TooManyAttemptsPath = "/login?error=" + Pages.Login.TooManyAttempts;

    /// <summary>
    /// Where to go after signing in: only a path on this server, else null. Browsers drop tabs and
    /// line breaks from URLs and read '\' as '/', so "/\tevil.example" or "/\\evil.example"
    /// would leave the site; no control character, no backslash, no "//" start and no scheme pass.
    /// </summary>
    internal static string? LocalPath(string? url) =>
        url is { Length: > 1 and <= 500 } && url[0] == '/' && url[1] != '/'
        && !url.Any(ch => char.IsControl(ch) || ch == '\\') && !url.Contains("://", StringComparison.Ordinal) ? url : null;
}
