using System.Net;
using Medic.Contracts;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Web;

public sealed class SessionForgeryTests
{
    private const string NewToken = """{"name":"made-from-the-browser"}""";

    /// <summary>A call carrying the browser's cookies, as a page (this one or another site's) would make it.</summary>
    private static Task<HttpResponseMessage> SendWithCookiesAsync(ConsoleSession browser, HttpMethod method, string path,
        string? body = null, string? origin = null, string? fetchSite = null, string? antiforgery = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (origin is not null) request.Headers.Add("Origin", origin);
        if (fetchSite is not null) request.Headers.Add("Sec-Fetch-Site", fetchSite);
        if (antiforgery is not null) request.Headers.Add("X-Medic-Antiforgery", antiforgery);
        if (body is not null) request.Content = Json.Raw(body);
        return browser.SendAsync(request);
    }

    private static async Task<(ConsoleSession Browser, string Token)> SignedInWithTokenAsync(MedicServer server)
    {
        var browser = await ConsoleSession.SignInAsync(server, MedicServer.AdminUsername, MedicServer.AdminPassword);
        using var response = await SendWithCookiesAsync(browser, HttpMethod.Get, "/api/v1/auth/antiforgery");
        var token = await response.ReadAsync(MedicJson.Default.AntiforgeryTokenResponse);
        token.HeaderName.ShouldBe("X-Medic-Antiforgery");
        return (browser, token.Token);
    }

    private static Task<long> TokensAsync(MedicServer server) => server.Database.ScalarAsync<long>("SELECT COUNT(*) FROM api_tokens WHERE name = 'made-from-the-browser'");

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_cross_origin_POST_with_a_session_cookie_is_refused_with_403_problem_details(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect, logInAdmin: false);
        var (browser, token) = await SignedInWithTokenAsync(server);

        using var byOrigin = await SendWithCookiesAsync(browser, HttpMethod.Post, "/api/v1/tokens", NewToken, origin: "https://evil.example", antiforgery: token);
        using var byFetchSite = await SendWithCookiesAsync(browser, HttpMethod.Post, "/api/v1/tokens", NewToken, fetchSite: "cross-site", antiforgery: token);

        (await byOrigin.ShouldBeProblemAsync(HttpStatusCode.Forbidden)).Detail().ShouldContain("Origin: https://evil.example");
        (await byFetchSite.ShouldBeProblemAsync(HttpStatusCode.Forbidden)).Detail().ShouldContain("Sec-Fetch-Site: cross-site");
        (await TokensAsync(server)).ShouldBe(0);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_session_cookie_POST_needs_the_antiforgery_header_and_works_with_it(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect, logInAdmin: false);
        var (browser, token) = await SignedInWithTokenAsync(server);
        var own = server.BaseAddress.GetLeftPart(UriPartial.Authority);

        using var without = await SendWithCookiesAsync(browser, HttpMethod.Post, "/api/v1/tokens", NewToken, origin: own);
        using var forged = await SendWithCookiesAsync(browser, HttpMethod.Post, "/api/v1/tokens", NewToken, origin: own, antiforgery: "not-the-token");
        (await without.ShouldBeProblemAsync(HttpStatusCode.Forbidden)).Detail().ShouldContain("X-Medic-Antiforgery");
        await forged.ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        (await TokensAsync(server)).ShouldBe(0);

        using var with = await SendWithCookiesAsync(browser, HttpMethod.Post, "/api/v1/tokens", NewToken, origin: own, fetchSite: "same-origin", antiforgery: token);
        with.StatusCode.ShouldBe(HttpStatusCode.Created, await with.Content.ReadAsStringAsync());
        (await TokensAsync(server)).ShouldBe(1);
    }

    [Fact]
    public async Task A_session_cookie_cannot_sign_out_through_the_API_without_the_antiforgery_header()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite, logInAdmin: false);
        var (browser, token) = await SignedInWithTokenAsync(server);

        using var refused = await SendWithCookiesAsync(browser, HttpMethod.Post, "/api/v1/auth/logout");
        using var stillIn = await SendWithCookiesAsync(browser, HttpMethod.Get, "/api/v1/whoami");
        using var signedOut = await SendWithCookiesAsync(browser, HttpMethod.Post, "/api/v1/auth/logout", antiforgery: token);

        await refused.ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        stillIn.StatusCode.ShouldBe(HttpStatusCode.OK);
        signedOut.StatusCode.ShouldBe(HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task Token_authenticated_calls_need_no_antiforgery_header_whatever_their_origin()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/tokens") { Content = Json.Raw(NewToken) };
        request.Headers.Add("Origin", "https://ci.example");
        request.Headers.Add("Sec-Fetch-Site", "cross-site");

        using var response = await server.Admin.SendAsync(request);

        response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_console_sign_out_form_still_works_with_its_own_antiforgery_field()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite, logInAdmin: false);
        var browser = await ConsoleSession.SignInAsync(server, MedicServer.AdminUsername, MedicServer.AdminPassword);
        await browser.GetPageAsync("/");

        using var signOut = await browser.PostFormAsync("/logout", []);

        signOut.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        signOut.Headers.Location.ShouldNotBeNull().ToString().ShouldBe("/login");
    }
}
