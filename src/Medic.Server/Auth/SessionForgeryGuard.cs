using Medic.Server.Common;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.Extensions.Options;

namespace Medic.Server.Auth;

/// <summary>
/// Cross-site request forgery protection for API calls made with a console session cookie: a call
/// from another site is refused outright (its <c>Origin</c> or <c>Sec-Fetch-Site</c> says so), and
/// a state-changing call must carry the session's antiforgery token in
/// <see cref="HeaderName"/>. Calls with an API token are not affected: a browser never attaches
/// one on its own. Runs after authentication, so it knows which credential the call used.
/// </summary>
internal sealed class SessionForgeryGuard(RequestDelegate next, IAntiforgery antiforgery, IOptions<MedicOptions> options)
{
    public const string HeaderName = "X-Medic-Antiforgery";

    private const string Remedy = "call the API from the console's own pages, sending the token from GET /api/v1/auth/antiforgery in the " + HeaderName +
        " header, or use an API token (Authorization: Bearer)";

    public async Task InvokeAsync(HttpContext http)
    {
        var request = http.Request;
        var unsafeMethod = !(HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method) || HttpMethods.IsTrace(request.Method));
        if (!(unsafeMethod || http.WebSockets.IsWebSocketRequest)
            || !(request.Path.StartsWithSegments("/api", StringComparison.Ordinal) || request.Path.StartsWithSegments("/ws", StringComparison.Ordinal))
            || Caller.From(http.User) is not { AuthMethod: Caller.SessionMethod })
        {
            await next(http);
            return;
        }

        if (CrossSite(request) is { } evidence)
        {
            await Problems.WriteAsync(http, StatusCodes.Status403Forbidden, "Cross-site request refused",
                $"A call made with a console session must come from the console's own origin; this one came from elsewhere ({evidence}).", Remedy);
            return;
        }

        if (unsafeMethod && !await antiforgery.IsRequestValidAsync(http))
        {
            await Problems.WriteAsync(http, StatusCodes.Status403Forbidden, "Antiforgery token missing or invalid",
                $"A state-changing call made with a console session must send the session's antiforgery token in the {HeaderName} header.", Remedy);
            return;
        }

        await next(http);
    }

    /// <summary>Why the browser says the request comes from another site, or null when it does not.</summary>
    private string? CrossSite(HttpRequest request)
    {
        var site = request.Headers["Sec-Fetch-Site"].ToString();
        if (site is "cross-site" or "same-site")
        {
            return "Sec-Fetch-Site: " + site;
        }

        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0)
        {
            return null;
        }

        var own = $"{request.Scheme}://{request.Host.Value}";
        var published = options.Value.PublicUrl is { } url && Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri.GetLeftPart(UriPartial.Authority) : null;
        return string.Equals(origin, own, StringComparison.OrdinalIgnoreCase) || string.Equals(origin, published, StringComparison.OrdinalIgnoreCase)
            ? null
            : "Origin: " + origin;
    }
}
