using System.Net;
using System.Text.RegularExpressions;

namespace Medic.Server.Tests.Infrastructure;

/// <summary>
/// A browser's view of the console: a cookie jar, the antiforgery field of the last form seen, and
/// the raw Set-Cookie headers so tests can check their attributes.
/// </summary>
public sealed partial class ConsoleSession(MedicServer server)
{
    private readonly HttpClient _http = server.Client();
    private readonly Dictionary<string, string> _cookies = new(StringComparer.Ordinal);
    private readonly List<string> _setCookies = [];

    /// <summary>A copy of the cookie jar.</summary>
    public Dictionary<string, string> Cookies => new(_cookies, StringComparer.Ordinal);

    /// <summary>Every Set-Cookie header received, in order.</summary>
    public IReadOnlyList<string> SetCookieHeaders => _setCookies;

    /// <summary>The hidden antiforgery field (name, value) of the last page that had one.</summary>
    public (string Name, string Value)? AntiforgeryField { get; private set; }

    public static async Task<ConsoleSession> SignInAsync(MedicServer server, string username, string password)
    {
        var session = new ConsoleSession(server);
        await session.GetPageAsync("/login");
        using var response = await session.PostFormAsync("/login", new() { ["username"] = username, ["password"] = password });
        response.StatusCode.ShouldBe(HttpStatusCode.Redirect, await response.Content.ReadAsStringAsync());
        session._cookies.ShouldContainKey("medic.session", "POST /login set no session cookie");
        return session;
    }

    public async Task<string> GetPageAsync(string path, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Get, path));
        var html = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(expected, html);
        return html;
    }

    public Task<HttpResponseMessage> GetAsync(string path) => SendAsync(new HttpRequestMessage(HttpMethod.Get, path));

    /// <summary>Posts a form, adding the antiforgery field unless <paramref name="withAntiforgery"/> is false.</summary>
    public Task<HttpResponseMessage> PostFormAsync(string path, Dictionary<string, string> fields, bool withAntiforgery = true)
    {
        if (withAntiforgery && AntiforgeryField is { } field)
        {
            fields[field.Name] = field.Value;
        }

        return SendAsync(new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(fields) });
    }

    public void ForgetCookie(string name) => _cookies.Remove(name);

    /// <summary>Sends any request with the cookie jar, keeping the cookies it sets (as a page's script call would).</summary>
    public async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request)
    {
        using (request)
        {
            if (_cookies.Count > 0)
            {
                request.Headers.Add("Cookie", string.Join("; ", _cookies.Select(c => $"{c.Key}={c.Value}")));
            }

            var response = await _http.SendAsync(request);
            if (response.Headers.TryGetValues("Set-Cookie", out var setCookies))
            {
                foreach (var header in setCookies)
                {
                    _setCookies.Add(header);
                    var pair = header.Split(';', 2)[0];
                    var eq = pair.IndexOf('=', StringComparison.Ordinal);
                    var (name, value) = (pair[..eq].Trim(), pair[(eq + 1)..].Trim());
                    if (value.Length == 0 || header.Contains("expires=Thu, 01 Jan 1970", StringComparison.OrdinalIgnoreCase))
                    {
                        _cookies.Remove(name);
                    }
                    else
                    {
                        _cookies[name] = value;
                    }
                }
            }

            if (response.Content.Headers.ContentType?.MediaType == "text/html")
            {
                var html = await response.Content.ReadAsStringAsync();
                var match = HiddenField().Match(html);
                if (match.Success)
                {
                    AntiforgeryField = (WebUtility.HtmlDecode(match.Groups["name"].Value), WebUtility.HtmlDecode(match.Groups["value"].Value));
                }
            }

            return response;
        }
    }

    [GeneratedRegex("<input type=\"hidden\" name=\"(?<name>[^\"]+)\" value=\"(?<value>[^\"]+)\"\\s*/?>")]
    private static partial Regex HiddenField();
}
