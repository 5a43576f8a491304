namespace Medic.Server.Web;

/// <summary>
/// Headers that tell browsers to keep Medic's responses to themselves: no framing, no MIME
/// sniffing, no referrer beyond this origin, and a content security policy that lets console pages
/// load scripts, styles and fonts from this origin only and talk only to it (the Blazor circuit's
/// WebSocket, the API). Set when the response starts, so error pages and redirects carry them too.
/// </summary>
internal sealed class SecurityHeaders(RequestDelegate next)
{
    /// <summary>
    /// For console pages: scripts, styles, fonts and connections to this origin only; no inline
    /// script and no eval. Inline style attributes are allowed: the component library sets sizes and
    /// positions through them (a style attribute cannot run code).
    /// </summary>
    public const string PagePolicy =
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; " +
        "form-action 'self'; frame-ancestors 'none'; base-uri 'self'";

    /// <summary>For JSON and everything else: nothing may load or frame it.</summary>
    public const string ApiPolicy = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

    public Task InvokeAsync(HttpContext http)
    {
        http.Response.OnStarting(static state =>
        {
            var response = ((HttpContext)state).Response;
            var headers = response.Headers;
            var html = response.ContentType?.StartsWith("text/html", StringComparison.OrdinalIgnoreCase) == true;
            headers.ContentSecurityPolicy = html ? PagePolicy : ApiPolicy;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "same-origin";
            headers["Cross-Origin-Opener-Policy"] = "same-origin";
            return Task.CompletedTask;
        }, http);
        return next(http);
    }
}
