namespace Medic.Server.Web;

/// <summary>
/// Headers that tell browsers to keep Medic's responses to themselves: no framing, no MIME
/// sniffing, no referrer beyond this origin, and a content security policy that allows the
/// console's own stylesheet and forms and nothing else (the pages have no script). Set when the
/// response starts, so error pages and redirects carry them too.
/// </summary>
internal sealed class SecurityHeaders(RequestDelegate next)
{
    /// <summary>For console pages: styles from /console.css, forms posting back here, nothing inline.</summary>
    public const string PagePolicy =
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

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
