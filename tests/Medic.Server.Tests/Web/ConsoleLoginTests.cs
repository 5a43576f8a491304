using System.Net;
using Medic.Contracts;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Web;

public sealed class ConsoleLoginTests
{
    private static string CookieHeader(ConsoleSession session, string name) =>
        session.SetCookieHeaders.Last(h => h.StartsWith(name + "=", StringComparison.Ordinal));

    [Fact]
    public async Task The_login_page_is_a_form_carrying_an_antiforgery_token()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite, logInAdmin: false);
        var browser = new ConsoleSession(server);

        var html = await browser.GetPageAsync("/login");

        html.ShouldContain("<form method=\"post\" action=\"/login\">");
        html.ShouldContain("name=\"username\"");
        html.ShouldContain("type=\"password\"");
        var (field, token) = browser.AntiforgeryField.ShouldNotBeNull();
        field.ShouldNotBeNullOrWhiteSpace();
        token.Length.ShouldBeGreaterThan(20);
        browser.Cookies.ShouldContainKey("medic.af");
        CookieHeader(browser, "medic.af").ShouldContain("samesite=strict", Case.Insensitive);
        CookieHeader(browser, "medic.af").ShouldContain("httponly", Case.Insensitive);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Signing_in_sets_an_HttpOnly_SameSite_Strict_session_cookie_and_shows_the_user(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect, logInAdmin: false);
        var browser = new ConsoleSession(server);
        await browser.GetPageAsync("/login");

        using var signIn = await browser.PostFormAsync("/login", new() { ["username"] = "admin", ["password"] = MedicServer.AdminPassword });
        var overview = await browser.GetPageAsync("/");

        signIn.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        signIn.Headers.Location.ShouldNotBeNull().ToString().ShouldBe("/");
        var cookie = CookieHeader(browser, "medic.session");
        cookie.ShouldContain("httponly", Case.Insensitive);
        cookie.ShouldContain("samesite=strict", Case.Insensitive);
        cookie.ShouldContain("path=/", Case.Insensitive);
        overview.ShouldContain("title=\"Signed in as admin in tenant default\"");
        overview.ShouldContain("data-role=\"admin\"");
        overview.ShouldContain("admin (superadmin)");
    }

    [Fact]
    public async Task A_console_session_also_authenticates_API_reads()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite, logInAdmin: false);
        var browser = await ConsoleSession.SignInAsync(server, "admin", MedicServer.AdminPassword);

        using var whoami = await browser.GetAsync("/api/v1/whoami");

        var me = await whoami.ReadAsync(MedicJson.Default.WhoAmIResponse);
        me.AuthMethod.ShouldBe("session");
        me.TokenId.ShouldBeNull();
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_login_post_without_the_antiforgery_token_is_refused_and_signs_nobody_in(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect, logInAdmin: false);
        var browser = new ConsoleSession(server);
        await browser.GetPageAsync("/login");
        var logins = await server.Database.ScalarAsync<long>("SELECT COUNT(*) FROM audit_log WHERE action = 'auth.login'");

        using var response = await browser.PostFormAsync("/login", new() { ["username"] = "admin", ["password"] = MedicServer.AdminPassword }, withAntiforgery: false);

        ((int)response.StatusCode).ShouldBeInRange(400, 499);
        browser.Cookies.ShouldNotContainKey("medic.session");
        (await server.Database.ScalarAsync<long>("SELECT COUNT(*) FROM audit_log WHERE action = 'auth.login'")).ShouldBe(logins, "the password must not even be checked");
    }

    [Fact]
    public async Task A_login_post_without_the_antiforgery_cookie_is_refused()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite, logInAdmin: false);
        var browser = new ConsoleSession(server);
        await browser.GetPageAsync("/login");
        browser.ForgetCookie("medic.af");

        using var response = await browser.PostFormAsync("/login", new() { ["username"] = "admin", ["password"] = MedicServer.AdminPassword });

        ((int)response.StatusCode).ShouldBeInRange(400, 499);
        browser.Cookies.ShouldNotContainKey("medic.session");
    }

    [Fact]
    public async Task A_wrong_password_shows_the_form_again_with_the_reason()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite, logInAdmin: false);
        var browser = new ConsoleSession(server);
        await browser.GetPageAsync("/login");

        using var response = await browser.PostFormAsync("/login", new() { ["username"] = "admin", ["password"] = "not-the-password", ["tenant"] = "default" });
        var back = response.Headers.Location.ShouldNotBeNull().OriginalString;
        var html = await browser.GetPageAsync(back);

        response.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        back.ShouldBe("/login?error=credentials&tenant=default");
        html.ShouldContain("The username or password is wrong.");
        html.ShouldContain("<form method=\"post\" action=\"/login\">");
        html.ShouldContain("value=\"default\"", customMessage: "the tenant typed is kept");
        browser.Cookies.ShouldNotContainKey("medic.session");
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_NUL_character_in_the_login_form_is_refused_not_a_server_error(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect, logInAdmin: false);
        var browser = new ConsoleSession(server);
        await browser.GetPageAsync("/login");

        using var response = await browser.PostFormAsync("/login", new() { ["username"] = "adm\0in", ["password"] = "whatever-password" });

        ((int)response.StatusCode).ShouldBeInRange(400, 499, await response.Content.ReadAsStringAsync());
        server.Logs.ServerFaults.ShouldBeEmpty();
    }

    [Fact]
    public async Task The_overview_without_a_session_redirects_to_the_login_page()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite, logInAdmin: false);

        using var response = await server.Client().GetAsync("/");

        response.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        response.Headers.Location.ShouldNotBeNull().ToString().ShouldContain("/login");
    }

    [Fact]
    public async Task Signing_out_ends_the_session()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite, logInAdmin: false);
        var browser = await ConsoleSession.SignInAsync(server, "admin", MedicServer.AdminPassword);
        await browser.GetPageAsync("/");

        using var signOut = await browser.PostFormAsync("/logout", []);
        using var afterwards = await browser.GetAsync("/");

        signOut.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        browser.Cookies.ShouldNotContainKey("medic.session");
        afterwards.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        afterwards.Headers.Location.ShouldNotBeNull().ToString().ShouldContain("/login");
    }

    [Fact]
    public async Task Past_the_sign_in_limit_the_form_comes_back_saying_to_wait_not_a_json_document()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite, logInAdmin: false);
        var browser = new ConsoleSession(server);
        await browser.GetPageAsync("/login");

        var answers = new List<string>();
        for (var i = 0; i < 11; i++) // the default limit is 10 a minute per address
        {
            using var response = await browser.PostFormAsync("/login", new() { ["username"] = "admin", ["password"] = "guess-" + i });
            answers.Add(response.Headers.Location?.OriginalString ?? ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        answers.Take(10).ShouldAllBe(a => a == "/login?error=credentials");
        answers[10].ShouldBe("/login?error=too-many");
        (await browser.GetPageAsync(answers[10])).ShouldContain("Too many sign-in attempts from this address.");
        browser.Cookies.ShouldNotContainKey("medic.session");
    }
}
